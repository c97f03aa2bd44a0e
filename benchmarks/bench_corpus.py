"""Corpus build speed and the stylized-facts table (real file vs simulated matches).

Two measurements, printed as one JSON object (or Markdown with --markdown):

- build: `build_corpus` over the first N matches (default 60) with 1 and 2 worker processes:
  wall seconds, CPU seconds of this process and its children, matches and stream messages per
  second, and the full consistent set (3,510 matches) extrapolated from the 2-worker wall rate.
  The machine is shared, so CPU seconds per match is the steadier figure.
- facts: `stylized_facts` of the real in-play tennis file next to the same facts on simulated
  matches of the same profile (ATP best-of-5 R16, favourite at 1.1-1.4 who won in straight sets, no
  synthetic stoppage — the real file has none), seed 0.

Usage: python benchmarks/bench_corpus.py [--data ../shared/data] [--matches 60] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.logs import configure_logging
from replay.corpus.builder import build_corpus, build_match
from replay.corpus.durations import fit_duration_model
from replay.corpus.facts import FACT_NAMES, stylized_facts
from replay.corpus.params import CorpusParams
from replay.corpus.slams import load_matches, load_points
from replay.corpus.stream import write_stream_file

REAL_FILE = "betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
FULL_SET = 3510


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_build(slams: Path, matches: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        lines = build_corpus(slams, out, count=matches, seed=0, workers=workers)
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
    messages = sum(int(line["n_messages"]) for line in lines)
    return {
        "workers": workers,
        "matches": len(lines),
        "messages": messages,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_s_per_match": round(cpu / len(lines), 3),
        "matches_per_s": round(len(lines) / wall, 3),
        "messages_per_s": round(messages / wall),
        "bytes_per_match": round(size / len(lines)),
        "full_set_wall_min_extrapolated": round(FULL_SET / (len(lines) / wall) / 60.0, 1),
    }


def comparable_facts(data: Path, count: int = 3) -> tuple[dict[str, float], list[dict[str, Any]]]:
    slams = data / "slams"
    infos = load_matches(slams)
    points = load_points(slams, {info.match_id for info in infos})
    model = fit_duration_model((info, points[info.match_id]) for info in infos)
    real = stylized_facts(data / REAL_FILE).as_dict()
    sims: list[dict[str, Any]] = []
    candidates = [
        info
        for info in infos
        if info.tour == "ATP"
        and info.round == "R16"
        and 1.1 <= min(info.odds_p1, info.odds_p2) <= 1.4
        and not info.retired
        and len(info.score.split()) == 3
        and (info.odds_p1 < info.odds_p2) == (info.winner == 1)
    ]
    with tempfile.TemporaryDirectory() as out:
        for info in candidates:
            build = build_match(info, points[info.match_id], model, CorpusParams(), 0)
            if build.static["synthetic_events"]:
                continue
            path = Path(out) / f"{info.match_id}.gz"
            write_stream_file(path, build.market.lines)
            sims.append({"match_id": info.match_id, **stylized_facts(path).as_dict()})
            if len(sims) == count:
                break
    return real, sims


def _markdown(result: dict[str, Any]) -> str:
    rows = [
        "| workers | matches | messages | wall s | CPU s/match | matches/s | messages/s | "
        "bytes/match | full set (3,510) extrapolated |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows.extend(
        f"| {b['workers']} | {b['matches']} | {b['messages']:,} | {b['wall_s']} | "
        f"{b['cpu_s_per_match']} | {b['matches_per_s']} | {b['messages_per_s']:,} | "
        f"{b['bytes_per_match']:,} | {b['full_set_wall_min_extrapolated']} min |"
        for b in result["build"]
    )
    sims = result["facts"]["simulated"]
    header = "| fact | real file | " + " | ".join(s["match_id"] for s in sims) + " | sim mean |"
    rows += ["", header, "|---" * (3 + len(sims)) + "|"]
    real = result["facts"]["real"]
    for name in FACT_NAMES:
        values = [float(s[name]) for s in sims]
        mean = sum(values) / len(values)
        cells = " | ".join(f"{v:.4g}" for v in values)
        rows.append(f"| {name} | {real[name]:.4g} | {cells} | {mean:.4g} |")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--matches", type=int, default=60)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", json=True)
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_avg_start": os.getloadavg()[0],
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        },
        "build": [measure_build(args.data / "slams", args.matches, w) for w in (1, 2)],
    }
    real, sims = comparable_facts(args.data)
    result["facts"] = {"real": real, "simulated": sims}
    result["machine"]["load_avg_end"] = os.getloadavg()[0]
    if args.markdown:
        sys.stdout.write(_markdown(result))
    else:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
