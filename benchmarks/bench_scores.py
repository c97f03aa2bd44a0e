"""Score-plane throughput: tick decoding, the state machine, tick files.

Usage: python benchmarks/bench_scores.py [--matches 200] [--repeat 5]

Prints one JSON object. Each stage is timed over the same synthetic ticks (legal random matches,
`engine.score.synthetic`), best of `--repeat` runs, in ns per tick. The baseline in the same run is
`orjson.loads` alone on the same lines (what any JSON feed pays), so `decode_vs_orjson` is the cost
of our validation relative to bare parsing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from adapters.scores.tickfile import read_ticks, write_ticks
from engine.physics.rules import MatchRules
from engine.score.book import ScoreBook
from engine.score.synthetic import simulate_match_ticks
from engine.score.ticks import ScoreTick, decode_tick, encode_tick


def _ticks(matches: int) -> list[ScoreTick]:
    out: list[ScoreTick] = []
    for i in range(matches):
        rules = MatchRules(best_of=5 if i % 2 else 3, final_set="adv" if i % 3 == 0 else "tb7@6")
        out.extend(simulate_match_ticks(f"m{i}", rules, seed=i))
    return out


def _best_ns_per_item(fn: Callable[[], int], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        count = fn()
        best = min(best, (time.perf_counter_ns() - start) / count)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    ticks = _ticks(args.matches)
    lines = [encode_tick(t) for t in ticks]

    def orjson_only() -> int:
        for line in lines:
            orjson.loads(line)
        return len(lines)

    def decode() -> int:
        for line in lines:
            decode_tick(line)
        return len(lines)

    def apply() -> int:
        book = ScoreBook()
        for tick in ticks:
            book.apply(tick)
        return len(ticks)

    def decode_and_apply() -> int:
        book = ScoreBook()
        for line in lines:
            book.apply(decode_tick(line))
        return len(lines)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ticks.jsonl.gz"
        write_ticks(path, ticks)

        def read_file() -> int:
            return sum(1 for _ in read_ticks(path))

        results: dict[str, Any] = {
            "orjson_loads_ns": _best_ns_per_item(orjson_only, args.repeat),
            "decode_tick_ns": _best_ns_per_item(decode, args.repeat),
            "machine_apply_ns": _best_ns_per_item(apply, args.repeat),
            "decode_and_apply_ns": _best_ns_per_item(decode_and_apply, args.repeat),
            "read_gz_file_ns": _best_ns_per_item(read_file, args.repeat),
        }
    results["decode_vs_orjson"] = results["decode_tick_ns"] / results["orjson_loads_ns"]
    results["ticks"] = len(ticks)
    results["machine"] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    sys.stdout.write(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
