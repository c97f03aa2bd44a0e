"""Engine metrics: isolated registries, stage timers, text exposition and the textfile writer."""

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from engine.metrics import EngineMetrics, Stage


def _samples(metrics: EngineMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_each_instance_has_its_own_registry_not_the_global_one():
    first, second = EngineMetrics(), EngineMetrics()

    first.count_gate("open")

    assert first.registry is not REGISTRY
    assert _samples(first)[("courtside_gate_decisions_total", (("reason", "open"),))] == 1.0
    assert ("courtside_gate_decisions_total", (("reason", "open"),)) not in _samples(second)
    assert REGISTRY.get_sample_value("courtside_gate_decisions_total", {"reason": "open"}) is None


def test_stage_timer_records_one_observation_per_use_in_its_stage():
    metrics = EngineMetrics()
    timer = metrics.stage_timer(Stage.GATE)

    timer.start()
    elapsed = timer.stop()
    with metrics.stage_timer(Stage.PARSE):
        sum(range(100))
    metrics.stage_timer(Stage.END_TO_END).observe_ns(150_000)

    samples = _samples(metrics)
    assert elapsed >= 0
    assert samples[("courtside_stage_latency_seconds_count", (("stage", "gate"),))] == 1.0
    assert samples[("courtside_stage_latency_seconds_count", (("stage", "parse"),))] == 1.0
    e2e = ("courtside_stage_latency_seconds_bucket", (("le", "0.0002"), ("stage", "end_to_end")))
    below = ("courtside_stage_latency_seconds_bucket", (("le", "0.0001"), ("stage", "end_to_end")))
    assert samples[e2e] == 1.0
    assert samples[below] == 0.0


def test_counters_and_gauges_expose_the_documented_names():
    metrics = EngineMetrics()

    metrics.message_counter("market", "mcm").inc()
    metrics.score_ticks.labels("applied").inc(3)
    metrics.orders.labels("placed").inc()
    metrics.exposure.labels("total").set(120.0)
    metrics.pnl.labels("realised").set(-15.5)
    metrics.feed_staleness.labels("score").set(4.0)
    metrics.conflations.inc()
    metrics.reconnects.labels("market").inc()
    metrics.observe_emulator("gru_full", 0.53, 0.50)
    metrics.observe_emulator("gru_full", 0.49, 0.50)

    samples = _samples(metrics)
    assert samples[("courtside_messages_total", (("source", "market"), ("type", "mcm")))] == 1.0
    assert samples[("courtside_score_ticks_total", (("outcome", "applied"),))] == 3.0
    assert samples[("courtside_orders_total", (("state", "placed"),))] == 1.0
    assert samples[("courtside_exposure_gbp", (("scope", "total"),))] == 120.0
    assert samples[("courtside_pnl_gbp", (("kind", "realised"),))] == -15.5
    assert samples[("courtside_feed_staleness_seconds", (("feed", "score"),))] == 4.0
    assert samples[("courtside_stream_conflations_total", ())] == 1.0
    sq = samples[("courtside_emulator_squared_error_total", (("model", "gru_full"),))]
    assert abs(sq - (0.03**2 + 0.01**2)) < 1e-12
    assert samples[("courtside_emulator_points_total", (("model", "gru_full"),))] == 2.0
    assert samples[("courtside_kill_switch_engaged", ())] == 0.0


def test_write_textfile_writes_the_registry_atomically(tmp_path):
    metrics = EngineMetrics()
    metrics.count_gate("mto")
    target = tmp_path / "replay.prom"

    metrics.write_textfile(target)

    text = target.read_text()
    assert 'courtside_gate_decisions_total{reason="mto"} 1.0' in text
    assert list(tmp_path.iterdir()) == [target]


def test_metric_names_lists_sample_names_with_their_suffixes():
    names = EngineMetrics().metric_names()

    assert "courtside_stage_latency_seconds_bucket" in names
    assert "courtside_gate_decisions_total" in names
    assert "courtside_feed_staleness_seconds" in names
    assert "courtside_gate_decisions" not in names


def test_stage_histogram_buckets_are_cumulative_and_inclusive_of_their_bound():
    metrics = EngineMetrics()
    timer = metrics.stage_timer(Stage.MODEL)

    for ns in (1_000, 27_000, 50_000, 50_001, 60_000_000):  # 1 µs, 27 µs, 50 µs, just over, 60 ms
        timer.observe_ns(ns)

    samples = _samples(metrics)

    def bucket(le: str) -> float:
        return samples[("courtside_stage_latency_seconds_bucket", (("le", le), ("stage", "model")))]

    assert bucket("1e-06") == 1.0
    assert bucket("2.5e-05") == 1.0
    assert bucket("5e-05") == 3.0
    assert bucket("0.0001") == 4.0
    assert bucket("0.05") == 4.0
    assert bucket("+Inf") == 5.0
    total = samples[("courtside_stage_latency_seconds_sum", (("stage", "model"),))]
    assert abs(total - 0.060128001) < 1e-12


def test_hot_path_counters_refuse_wrong_label_arity():
    metrics = EngineMetrics()

    with pytest.raises(ValueError, match="courtside_messages"):
        metrics.messages.labels("market")
    with pytest.raises(ValueError, match="courtside_emulator_rolling_abs_error"):
        metrics.emulator_error.labels("2013-wimbledon-1401")


def test_per_point_emulator_series_are_exported_at_collection_time():
    metrics = EngineMetrics()

    metrics.emulator_error.labels("m1", "gru_full").set(0.012)
    metrics.emulator_error.labels("m1", "gru_full").set(0.008)  # a gauge keeps the last value
    metrics.score_ticks.labels("duplicate").inc()

    samples = _samples(metrics)
    error = ("courtside_emulator_rolling_abs_error", (("match", "m1"), ("model", "gru_full")))
    assert samples[error] == 0.008
    assert samples[("courtside_score_ticks_total", (("outcome", "duplicate"),))] == 1.0
    assert "courtside_emulator_rolling_abs_error" in metrics.metric_names()
