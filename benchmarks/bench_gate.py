"""Trust gate and metrics overhead per event (the engine's per-event budget, DESIGN.md §3, §8).

    python benchmarks/bench_gate.py [--events 200000] [--repeats 7]

Times, per event, from Python:
- gate: `engine.gate.evaluate` on a proven per-match state, inputs updated in place (how the
  engine uses it), over a mix of open, no-edge, MTO, collapse, stale and distress events;
- gate+new_inputs: the same with a fresh `GateInputs` allocated per event;
- depth_update: `GateState.observe_depth` (the running median, once per book update);
- emu_update: `GateState.observe_point` (the rolling error window, once per point);
- metrics: one `StageTimer` start/stop into its histogram plus `count_gate` (what the engine adds
  per event for the gate stage);
- gate+metrics: evaluate + timer + counter, the gate's full cost on the hot path;
- rationale: `GateDecision.rationale()` (built only for logs, records and the API, not per event);
- peer metrics: the same timer + counter with prometheus-client's own Histogram.observe and
  Counter.inc (what `engine.metrics` avoids on the hot path);
- baseline: orjson parse of a ~1 KB Exchange Stream market-change line, the design's anchor
  for a per-event stage (5.3 µs there); ratios are baseline / ours.

Prints one JSON object. Timings are medians over repeats of ns per event; machines are shared.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.gate import GateConfig, GateInputs, GateState, evaluate  # noqa: E402
from engine.metrics import LATENCY_BUCKETS_S, EngineMetrics, Stage  # noqa: E402

CONFIG = GateConfig()


def _scenarios() -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "fair_prob": 0.60,
        "market_prob": 0.55,
        "depth": 2000.0,
        "cum_size": 5000.0,
        "distress": 0.05,
        "stream_age_s": 0.2,
        "score_age_s": 5.0,
    }
    variants: list[dict[str, Any]] = [
        {},
        {"fair_prob": 0.56},
        {"pts_since_mto": 3},
        {"pts_since_mto": 12},
        {"depth": 100.0, "cum_size": 50.0},
        {"stream_age_s": 30.0},
        {"distress": 0.8},
        {"market_prob": None},
    ]
    return [{**base, **v} for v in variants]


def _proven_state() -> GateState:
    state = GateState(CONFIG)
    for i in range(CONFIG.emu_error_window):
        state.observe_point(0.5 + (i % 3) * 0.002, 0.5)
    for i in range(1000):
        state.observe_depth(1500.0 + (i % 50) * 20.0)
    return state


def _mcm_line() -> bytes:
    runners = [
        {
            "id": sid,
            "atb": [[round(1.9 - 0.02 * i, 2), 100.25 + i] for i in range(10)],
            "atl": [[round(1.92 + 0.02 * i, 2), 90.5 + i] for i in range(10)],
            "trd": [[round(1.8 + 0.02 * i, 2), 1234.5 + i] for i in range(6)],
            "ltp": 2.0,
            "tv": 1580.1,
        }
        for sid in (7659623, 2249229)
    ]
    msg = {
        "op": "mcm",
        "id": 2,
        "clk": "AAAAAAAA",
        "pt": 1531044000000,
        "mc": [{"id": "1.145329255", "rc": runners, "con": False, "img": False}],
    }
    return orjson.dumps(msg)


def _time(body: Callable[[int], None], events: int, repeats: int) -> float:
    """Median ns per event over `repeats` runs of `body(events)`."""
    body(min(events, 10_000))  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        body(events)
        samples.append((time.perf_counter_ns() - start) / events)
    return statistics.median(samples)


def run(events: int, repeats: int) -> dict[str, Any]:
    scenarios = _scenarios()
    inputs_cycle = [GateInputs(**s) for s in scenarios]
    n_cycle = len(inputs_cycle)
    state = _proven_state()
    metrics = EngineMetrics()
    timer = metrics.stage_timer(Stage.GATE)
    count_gate = metrics.count_gate
    line = _mcm_line()
    reusable = GateInputs(**scenarios[0])

    def gate_only(n: int) -> None:
        for i in range(n):
            src = inputs_cycle[i % n_cycle]
            reusable.fair_prob = src.fair_prob
            reusable.market_prob = src.market_prob
            reusable.pts_since_mto = src.pts_since_mto
            reusable.depth = src.depth
            reusable.cum_size = src.cum_size
            reusable.stream_age_s = src.stream_age_s
            reusable.distress = src.distress
            evaluate(CONFIG, state, reusable)

    def update_cost(n: int) -> None:
        for i in range(n):
            src = inputs_cycle[i % n_cycle]
            reusable.fair_prob = src.fair_prob
            reusable.market_prob = src.market_prob
            reusable.pts_since_mto = src.pts_since_mto
            reusable.depth = src.depth
            reusable.cum_size = src.cum_size
            reusable.stream_age_s = src.stream_age_s
            reusable.distress = src.distress

    def gate_new_inputs(n: int) -> None:
        for i in range(n):
            evaluate(CONFIG, state, GateInputs(**scenarios[i % n_cycle]))

    def depth_update(n: int) -> None:
        add = state.observe_depth
        for i in range(n):
            add(1500.0 + (i % 97) * 10.0)

    def emu_update(n: int) -> None:
        observe = state.observe_point
        for i in range(n):
            observe(0.5 + (i % 5) * 0.001, 0.5)

    def metrics_only(n: int) -> None:
        for _ in range(n):
            timer.start()
            timer.stop()
            count_gate("open")

    def gate_and_metrics(n: int) -> None:
        for i in range(n):
            src = inputs_cycle[i % n_cycle]
            reusable.fair_prob = src.fair_prob
            reusable.market_prob = src.market_prob
            reusable.pts_since_mto = src.pts_since_mto
            reusable.depth = src.depth
            reusable.cum_size = src.cum_size
            reusable.stream_age_s = src.stream_age_s
            reusable.distress = src.distress
            timer.start()
            decision = evaluate(CONFIG, state, reusable)
            timer.stop()
            count_gate(decision.reason)

    decisions = [evaluate(CONFIG, state, inp) for inp in inputs_cycle]

    def rationale(n: int) -> None:
        for i in range(n):
            decisions[i % n_cycle].rationale()

    peer_registry = CollectorRegistry()
    peer_hist = Histogram(
        "peer_latency_seconds", "peer", ["stage"], buckets=LATENCY_BUCKETS_S, registry=peer_registry
    ).labels("gate")
    peer_counter = Counter("peer_gate", "peer", ["reason"], registry=peer_registry).labels("open")
    perf_counter_ns = time.perf_counter_ns

    def metrics_peer(n: int) -> None:
        for _ in range(n):
            start = perf_counter_ns()
            peer_hist.observe((perf_counter_ns() - start) * 1e-9)
            peer_counter.inc()

    def parse_baseline(n: int) -> None:
        loads = orjson.loads
        for _ in range(n):
            loads(line)

    update_ns = _time(update_cost, events, repeats)
    results = {
        "gate": _time(gate_only, events, repeats) - update_ns,
        "gate+new_inputs": _time(gate_new_inputs, events, repeats),
        "depth_update": _time(depth_update, events, repeats),
        "emu_update": _time(emu_update, events, repeats),
        "metrics": _time(metrics_only, events, repeats),
        "metrics_peer_prometheus_client": _time(metrics_peer, events, repeats),
        "gate+metrics": _time(gate_and_metrics, events, repeats) - update_ns,
        "rationale": _time(rationale, max(events // 10, 1000), repeats),
        "baseline_orjson_parse_1kb": _time(parse_baseline, events, repeats),
    }
    base = results["baseline_orjson_parse_1kb"]
    return {
        "events": events,
        "repeats": repeats,
        "ns_per_event": {k: round(v, 1) for k, v in results.items()},
        "baseline_over_ours": {
            k: round(base / v, 2) for k, v in results.items() if k != "baseline_orjson_parse_1kb"
        },
        "peer_over_ours_metrics": round(
            results["metrics_peer_prometheus_client"] / results["metrics"], 2
        ),
        "mcm_line_bytes": len(line),
        "reasons_in_mix": [str(d.reason) for d in decisions],
        "input_update_ns_subtracted": round(update_ns, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sys.stdout.write(json.dumps(run(args.events, args.repeats), indent=2) + "\n")


if __name__ == "__main__":
    main()
