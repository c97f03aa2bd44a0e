"""Time the physics chain from Python: warm and cold evaluations, full pricing, batches, start-up.

    python benchmarks/bench_physics.py [--quick] [--no-startup]

- warm: same (pa, pb, rules), a different in-play state each call (`p_match`).
- cold: a new (pa, pb) every call, so every call builds the tables (`p_match`).
- what_if: p_match now and after the next point won / lost (`what_if`, same pa, pb).
- price: every output (`price`: PMF, expected games, what-ifs; same pa, pb).
- batch: `p_match_batch` over the slam data's states (../shared/data), rows grouped by match
  (tables built once per match) and with a new (pa, pb) on every row.
- startup: a fresh process importing the chain and pricing one state, with an empty numba cache
  (compiles) and again with the cache that run left behind (loads machine code).
- peer: the same chain as the textbook memoised pure-Python recursion
  (benchmarks/physics_reference.py), checked to agree first; ratios are peer / ours.

Prints one JSON object. Timings are medians of repeats, with the fastest repeat as `*_min`: these
machines are shared and noisy, and the minimum is the least disturbed estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import physics_reference  # noqa: E402
from engine.physics.pricing import p_match, p_match_batch, price, what_if  # noqa: E402
from engine.physics.rules import MatchRules  # noqa: E402
from engine.physics.state import MatchState, validate  # noqa: E402

RULES = MatchRules(best_of=5, final_set="tb7@6")


def _states(rules: MatchRules) -> list[MatchState]:
    found = []
    for sets in ((0, 0), (1, 0), (1, 2), (2, 2)):
        for games in ((0, 0), (3, 2), (4, 5), (6, 5), (6, 6)):
            for points in ((0, 0), (2, 1), (3, 3), (4, 3), (5, 6)):
                for server in (1, 2):
                    state = MatchState(sets, games, points, server)
                    try:
                        validate(state, rules)
                    except ValueError:
                        continue
                    found.append(state)
    return found


_MINIMA: dict[str, float] = {}


def _per_call_us(fn: Callable[[], object], calls: int, repeats: int, name: str = "") -> float:
    """Median µs per call over `repeats` runs; the fastest run is kept in _MINIMA[name]."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls / 1000.0)
    if name:
        _MINIMA[f"{name}_min"] = min(samples)
    return statistics.median(samples)


def _cycle(items: list[Any]) -> Callable[[], Any]:
    index = [0]
    count = len(items)

    def nxt() -> Any:
        index[0] = (index[0] + 1) % count
        return items[index[0]]

    return nxt


def bench_calls(calls: int, repeats: int) -> dict[str, float]:
    states = _states(RULES)
    next_state = _cycle(states)
    for state in states:  # the reference must agree before its timings mean anything
        ours = p_match(0.65, 0.62, RULES, state)
        theirs = physics_reference.p_match(0.65, 0.62, RULES, state)
        assert abs(ours - theirs) < 1e-12, (state, ours, theirs)

    results: dict[str, float] = {}
    results["warm_p_match_us"] = _per_call_us(
        lambda: p_match(0.65, 0.62, RULES, next_state()), calls, repeats, name="warm_p_match_us"
    )
    fresh = iter(0.5 + 1e-9 * k for k in range(calls * repeats + 10))
    results["cold_p_match_us"] = _per_call_us(
        lambda: p_match(next(fresh), 0.62, RULES, next_state()),
        calls,
        repeats,
        name="cold_p_match_us",
    )
    results["warm_what_if_us"] = _per_call_us(
        lambda: what_if(0.65, 0.62, RULES, next_state()), calls, repeats, name="warm_what_if_us"
    )
    results["price_us"] = _per_call_us(
        lambda: price(0.65, 0.62, RULES, next_state()), calls // 10, repeats, name="price_us"
    )
    results["peer_warm_p_match_us"] = _per_call_us(
        lambda: physics_reference.p_match(0.65, 0.62, RULES, next_state()),
        calls,
        repeats,
        name="peer_warm_p_match_us",
    )
    fresh_peer = iter(0.4 + 1e-9 * k for k in range(calls * repeats + 10))
    results["peer_cold_p_match_us"] = _per_call_us(
        lambda: physics_reference.p_match(next(fresh_peer), 0.62, RULES, next_state()),
        max(calls // 100, 20),
        repeats,
        name="peer_cold_p_match_us",
    )
    results["peer_over_ours_warm"] = results["peer_warm_p_match_us"] / results["warm_p_match_us"]
    results["peer_over_ours_cold"] = results["peer_cold_p_match_us"] / results["cold_p_match_us"]
    results.update(_MINIMA)
    return results


def _slam_rows() -> list[tuple[MatchRules, np.ndarray, np.ndarray]] | None:
    """(rules, states, match index) per match format of the slam data, or None without the data."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    slams = ROOT.parent / "shared" / "data" / "slams"
    if not (slams / "points.parquet").is_file():
        return None
    matches = pacsv.read_csv(slams / "matches.csv").to_pydict()
    fmt = {
        m: f"{b}/{r}"
        for m, b, r in zip(
            matches["match_id"], matches["best_of"], matches["final_set_rule"], strict=True
        )
    }
    columns = ["p1_sets", "p2_sets", "p1_games", "p2_games", "p1_points", "p2_points", "server"]
    table = pq.read_table(
        slams / "points.parquet", columns=["match_id", "after_match_end", *columns]
    )
    keep = ~table["after_match_end"].to_numpy(zero_copy_only=False)
    rows = np.column_stack([table[c].to_numpy().astype(np.int64) for c in columns])[keep]
    ids = np.asarray(table["match_id"].to_pylist(), dtype=object)[keep]
    _, match_index = np.unique(ids, return_inverse=True)
    formats = np.array([fmt[m] for m in ids])
    out = []
    for name in np.unique(formats):
        best_of, final_set = str(name).split("/")
        chosen = formats == name
        rules = MatchRules(best_of=int(best_of), final_set=final_set)  # type: ignore[arg-type]
        out.append((rules, rows[chosen], match_index[chosen]))
    return out


def bench_batch(repeats: int) -> dict[str, float]:
    groups = _slam_rows()
    if groups is None:
        return {"skipped_no_data": 1.0}
    rng = np.random.default_rng(1)
    n_rows = sum(len(rows) for _, rows, _ in groups)
    grouped, per_row = [], []
    for _ in range(repeats):
        grouped_s = per_row_s = 0.0
        for rules, rows, match_index in groups:
            per_match = rng.uniform(0.55, 0.72, size=(match_index.max() + 1, 2))
            pa_grouped, pb_grouped = per_match[match_index, 0], per_match[match_index, 1]
            pa_rows = rng.uniform(0.55, 0.72, size=len(rows))
            pb_rows = rng.uniform(0.55, 0.72, size=len(rows))
            p_match_batch(pa_rows[:10], pb_rows[:10], rules, rows[:10])
            start = time.perf_counter()
            p_match_batch(pa_grouped, pb_grouped, rules, rows)
            grouped_s += time.perf_counter() - start
            start = time.perf_counter()
            p_match_batch(pa_rows, pb_rows, rules, rows)
            per_row_s += time.perf_counter() - start
        grouped.append(grouped_s)
        per_row.append(per_row_s)
    return {
        "batch_rows": float(n_rows),
        "batch_grouped_s": statistics.median(grouped),
        "batch_grouped_states_per_s": n_rows / statistics.median(grouped),
        "batch_new_pa_pb_every_row_s": statistics.median(per_row),
        "batch_new_pa_pb_every_row_states_per_s": n_rows / statistics.median(per_row),
    }


_STARTUP = """
import time
t0 = time.perf_counter()
from engine.physics.pricing import p_match, price
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
t1 = time.perf_counter()
p_match(0.65, 0.62, MatchRules(), MatchState())
t2 = time.perf_counter()
price(0.65, 0.62, MatchRules(), MatchState())
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def bench_startup() -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        for label in ("no_jit_cache", "with_jit_cache"):
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", _STARTUP],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            results[f"startup_{label}_process_s"] = time.perf_counter() - start
            results[f"startup_{label}_import_s"] = float(out[0])
            results[f"startup_{label}_first_p_match_s"] = float(out[1])
            results[f"startup_{label}_first_price_s"] = float(out[2])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    parser.add_argument("--no-startup", action="store_true", help="skip the fresh-process runs")
    args = parser.parse_args()
    calls, repeats = (2_000, 3) if args.quick else (100_000, 7)
    report: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "rules": f"best_of={RULES.best_of} final_set={RULES.final_set}",
    }
    report.update(bench_calls(calls, repeats))
    report.update(bench_batch(1 if args.quick else 3))
    if not args.no_startup:
        report.update(bench_startup())
    sys.stdout.write(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
