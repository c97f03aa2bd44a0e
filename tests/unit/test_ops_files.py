"""ops/: the alert rules and the Grafana dashboard parse, and only reference engine metrics."""

import json
import re

import yaml

from engine.metrics import EngineMetrics

_METRIC = re.compile(r"\bcourtside_[a-z0-9_]+\b")


def _referenced(expressions: list[str]) -> set[str]:
    return {name for expr in expressions for name in _METRIC.findall(expr)}


def test_alert_rules_parse_and_reference_only_defined_metrics(repo_root):
    rules = yaml.safe_load((repo_root / "ops/prometheus/alerts.yml").read_text())

    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    used = _referenced([r["expr"] for r in alerts.values()])

    assert {
        "CourtsideEmulatorRmseHigh",
        "CourtsideLatencyHigh",
        "CourtsideFeedStale",
        "CourtsideKillSwitchEngaged",
        "CourtsideDailyLossLimitNear",
    } <= set(alerts)
    assert "[3d]" in alerts["CourtsideEmulatorRmseHigh"]["expr"]
    assert "0.002" in alerts["CourtsideLatencyHigh"]["expr"]
    assert used and used <= EngineMetrics().metric_names(), used - EngineMetrics().metric_names()


def test_dashboard_parses_and_every_panel_queries_defined_metrics(repo_root):
    dashboard = json.loads((repo_root / "ops/grafana/dashboard.json").read_text())

    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = _referenced(exprs)
    defined = EngineMetrics().metric_names()

    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(_METRIC.search(e) for e in exprs)
    assert used <= defined, used - defined
    families = {n.removesuffix("_bucket").removesuffix("_total") for n in used}
    assert "courtside_stage_latency_seconds" in families
    assert "courtside_gate_decisions" in families
