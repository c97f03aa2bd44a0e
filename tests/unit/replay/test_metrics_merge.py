"""Merging per-task Prometheus textfiles keeps the live names and adds counters up."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from engine.metrics import EngineMetrics
from replay.metrics_merge import merge_textfiles


def _samples(text: str) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = sample.value
    return out


def test_counters_add_up_and_gauges_keep_the_largest(tmp_path: Path) -> None:
    # Arrange: two tasks' engines
    first, second = EngineMetrics(), EngineMetrics()
    first.count_gate("open")
    first.count_gate("mto")
    second.count_gate("mto")
    first.kill_switch.set(0.0)
    second.kill_switch.set(1.0)
    first.write_textfile(tmp_path / "a.prom")
    second.write_textfile(tmp_path / "b.prom")

    # Act
    merged = merge_textfiles([tmp_path / "a.prom", tmp_path / "b.prom", tmp_path / "missing"])

    # Assert: the merged file parses, every live metric name is there, values combine
    samples = _samples(merged)
    names = {family.name for family in text_string_to_metric_families(merged)}
    live = {family.name for family in text_string_to_metric_families(first.render().decode())}
    assert names == live
    gate = {k: v for k, v in samples.items() if "gate" in k and "reason=mto" in k}
    assert gate and all(v == 2.0 for v in gate.values())
    kill = [v for k, v in samples.items() if k.startswith("courtside_kill_switch")]
    assert kill == [1.0]
