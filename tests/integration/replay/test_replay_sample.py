"""`courtside replay` on the bundled sample day (data/sample, five matches) end to end: the
daemon's engine, divergence strategy, staking, risk, order manager + SQLite journal and the seeded
simulated exchange, on a simulated clock. Checks determinism (in-process vs a two-process pool,
byte for byte), the report's numbers against the order journal recomputed here with plain sqlite3,
the report CLI, the merged metrics file, and shadow mode against medical time-out flags.

Only the emulators are stand-ins (tiny untrained GRUs exported to ONNX), with a gate that trusts
them, so that the pipeline trades; every other gate check decides as configured."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.cli import main
from replay.runner import ReplayOptions
from replay.session import RunSpec, run_replay
from replay.tasks import discover_tasks

pytestmark = pytest.mark.slow

DETERMINISTIC_TASK_FILES = (
    "result.json",
    "orders.jsonl",
    "order_events.jsonl",
    "fills.jsonl",
    "predictions.jsonl",
    "gate.jsonl",
)

PERMISSIVE_GATE = """
[gate]
emu_error_max = 1.0
distress_threshold = 1.0
min_edge = 0.001
emu_min_points = 1
"""


def export_tiny_emulators(folder: Path) -> None:
    """GRU full and lite, a few hundred parameters each, exported to ONNX with metadata."""
    from training.export import export_untrained_pair

    export_untrained_pair(folder, "gru", seed=11, torch_seed=5, embed=8, hidden=16)


def write_config(folder: Path, models: Path) -> Path:
    path = folder / "engine.toml"
    path.write_text(
        f'[core]\nmodels_dir = "{models}"\nemu_full = "gru_full.onnx"\n'
        f'emu_lite = "gru_lite.onnx"\n{PERMISSIVE_GATE}',
        encoding="utf-8",
    )
    return path


def journal_orders(journal: Path) -> list[dict[str, Any]]:
    """Every row of the journal's orders table, read with plain sqlite3."""
    with sqlite3.connect(journal) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM orders")]


def market_facts(match_folder: Path) -> tuple[str, int, float]:
    """(market id, winning selection, commission rate) from match.json and the stream file."""
    meta = json.loads((match_folder / "match.json").read_text())
    winner = meta["selection_ids"][meta["winner"] - 1]
    stream = next(match_folder.glob(f"{meta['market_id']}*"))
    rate = 0.0
    with gzip.open(stream, "rb") as handle:
        for line in handle:
            for change in json.loads(line).get("mc", []):
                if "marketDefinition" in change:
                    rate = change["marketDefinition"]["marketBaseRate"] / 100.0
            if rate:
                break
    return meta["market_id"], winner, rate


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replay-config")
    export_tiny_emulators(folder / "models")
    return write_config(folder, folder / "models")


@pytest.fixture(scope="module")
def sample(repo_root: Path) -> Path:
    return repo_root / "data" / "sample"


@pytest.fixture(scope="module")
def runs(
    config: Path, sample: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, Any]]:
    """The sample day twice: in this process, then on a pool of two worker processes."""
    tasks = discover_tasks([sample])
    first = tmp_path_factory.mktemp("run-a")
    second = tmp_path_factory.mktemp("run-b")
    summary = run_replay(
        tasks,
        RunSpec(
            ReplayOptions(str(first), str(config)), workers=1, metrics_file=str(first / "m.prom")
        ),
    )
    run_replay(tasks, RunSpec(ReplayOptions(str(second), str(config)), workers=2, html=False))
    return first, second, summary


def test_two_runs_give_byte_identical_orders_and_results(
    runs: tuple[Path, Path, dict[str, Any]],
) -> None:
    first, second, _ = runs

    task_ids = json.loads((first / "run.json").read_text())["task_ids"]

    assert len(task_ids) == 5
    for name in ("results.json", "report.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    for task_id in task_ids:
        for name in DETERMINISTIC_TASK_FILES:
            a = (first / "tasks" / task_id / name).read_bytes()
            b = (second / "tasks" / task_id / name).read_bytes()
            assert a == b, f"{task_id}/{name}"


def test_the_day_is_priced_traded_and_settled(
    runs: tuple[Path, Path, dict[str, Any]], sample: Path
) -> None:
    _, _, summary = runs
    n_points = sum(
        json.loads(line)["n_points"] for line in (sample / "matches.jsonl").read_text().splitlines()
    )

    report = summary["summary"]

    # one prediction per point except each match's last (the match is over: nothing to price)
    assert report["points_priced"] == n_points - 5
    assert report["markets_settled"] == 5
    assert report["orders"] > 0
    assert report["matched_stake"] > 0
    assert report["fair_log_loss"] is not None and report["fair_log_loss"] < 0.69
    assert report["emu_full_rmse_pairs"] > 0


def test_report_numbers_match_an_independent_recomputation_from_the_journal(
    runs: tuple[Path, Path, dict[str, Any]], sample: Path
) -> None:
    first, _, _ = runs
    report = json.loads((first / "report.json").read_text())
    task_ids = json.loads((first / "run.json").read_text())["task_ids"]

    net_by_market: dict[str, float] = {}
    turnover = submitted = 0.0
    states: dict[str, int] = {}
    for task_id in task_ids:
        market_id, winner, rate = market_facts(sample / task_id)
        gross = 0.0
        for order in journal_orders(first / "tasks" / task_id / "journal.sqlite"):
            states[order["state"]] = states.get(order["state"], 0) + 1
            if order["state"] not in ("RISK_REJECTED", "REJECTED"):
                submitted += order["size"]
            size, price = order["size_matched"], order["average_price_matched"]
            turnover += size
            won = order["selection_id"] == winner
            if order["side"] == "BACK":
                gross += size * (price - 1.0) if won else -size
            else:
                gross += -size * (price - 1.0) if won else size
        net_by_market[market_id] = round(gross, 2) - round(max(0.0, gross) * rate, 2)
    pnl = sum(net_by_market.values())
    curve = np.cumsum([net_by_market[m["market_id"]] for m in report["markets"]])
    drawdown = float(
        np.max(
            np.maximum.accumulate(np.concatenate([[0.0], curve])) - np.concatenate([[0.0], curve])
        )
    )

    summary = report["summary"]
    assert summary["orders_by_state"] == dict(sorted(states.items()))
    assert summary["pnl"] == pytest.approx(pnl, abs=0.011 * len(task_ids))
    assert summary["turnover"] == pytest.approx(turnover, abs=0.01)
    assert summary["roi_on_turnover"] == pytest.approx(pnl / turnover, abs=1e-4)
    assert summary["fill_rate"] == pytest.approx(turnover / submitted, abs=1e-4)
    assert summary["max_drawdown"] == pytest.approx(drawdown, abs=0.011 * len(task_ids))
    assert report["pnl_curve"][-1] == pytest.approx(pnl, abs=0.011 * len(task_ids))


def test_report_cli_rebuilds_the_same_report_and_a_self_contained_page(
    runs: tuple[Path, Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    first, _, _ = runs
    before = (first / "report.json").read_bytes()
    (first / "report.json").unlink()

    status = main(["report", str(first)])

    assert status == 0
    assert (first / "report.json").read_bytes() == before
    assert json.loads(capsys.readouterr().out)["orders"] > 0
    page = (first / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 + 5  # P&L, calibration, one per match
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_the_merged_metrics_file_uses_the_live_names_and_adds_the_tasks_up(
    runs: tuple[Path, Path, dict[str, Any]],
) -> None:
    first, _, _ = runs
    report = json.loads((first / "report.json").read_text())

    families = {f.name: f for f in text_string_to_metric_families((first / "m.prom").read_text())}

    decisions = {
        s.labels["reason"]: s.value
        for s in families["courtside_gate_decisions"].samples
        if s.name.endswith("_total")
    }
    assert {k: v for k, v in decisions.items() if v} == {
        k: float(v) for k, v in report["gate"]["decisions_by_reason"].items()
    }
    assert "courtside_stage_latency_seconds" in families


def _with_mto(source: Path, target: Path, after_point: int) -> tuple[float, float]:
    """Copy a match folder with a medical time-out inserted after the n-th point."""
    shutil.copytree(source, target)
    ticks = [json.loads(line) for line in (source / "ticks.jsonl").read_text().splitlines()]
    points = [i for i, t in enumerate(ticks) if t["type"] == "point"]
    at = points[after_point - 1]
    start, end = ticks[at]["ts"] + 2.0, ticks[at + 1]["ts"] - 2.0
    base = {"v": 1, "match_id": ticks[0]["match_id"], "player": 1}
    out = [
        *ticks[: at + 1],
        {**base, "type": "mto_start", "ts": start},
        {**base, "type": "mto_end", "ts": end},
        *ticks[at + 1 :],
    ]
    lines = [json.dumps({**t, "seq": i + 1}) for i, t in enumerate(out)]
    (target / "ticks.jsonl").write_text("\n".join(lines) + "\n")
    return start, end


def test_shadow_mode_places_nothing_and_reports_the_gate_against_mto_flags(
    config: Path, sample: Path, tmp_path: Path
) -> None:
    match = _with_mto(sample / "2013-wimbledon-2404", tmp_path / "match", after_point=40)
    out = tmp_path / "out"

    status = main(
        ["replay", str(tmp_path / "match"), "--shadow", "--config", str(config), "--out", str(out)]
    )

    assert status == 0
    task = out / "tasks" / "2013-wimbledon-2404"
    assert (task / "orders.jsonl").read_bytes() == b""
    would_be = [
        json.loads(line) for line in (task / "would_be_orders.jsonl").read_text().splitlines()
    ]
    assert would_be and all(w["size"] == 0.0 and w["would_be_size"] > 0 for w in would_be)
    report = json.loads((out / "report.json").read_text())
    mto = report["shadow_mto"]
    assert mto["mto_flags"] == 1
    assert mto["mto_flags_gate_closed"] == 1
    assert mto["open_decisions_inside_mto"] == 0
    window = mto["windows"][0]
    assert window["start"] == pytest.approx(match[0]) and window["end"] == pytest.approx(match[1])
    assert report["summary"]["would_be_orders"] == len(would_be)
    assert report["summary"]["orders"] == 0


def test_cli_with_two_workers_keeps_stdout_for_the_summary(
    config: Path, sample: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # worker processes start with unconfigured logging; their lines must go to stderr too
    matches = [str(sample / "2013-wimbledon-2404"), str(sample / "2013-wimbledon-1401")]

    status = main(
        ["replay", *matches, "--workers", "2", "--config", str(config), "--out", str(tmp_path)]
    )

    assert status == 0
    summary = json.loads(capfd.readouterr().out)
    assert summary["run"]["workers"] == 2
    assert summary["summary"]["tasks"] == 2
