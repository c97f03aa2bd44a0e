"""`courtside corpus`: build the replay corpus, and print stylized facts of stream files.

courtside corpus build --slams DIR --out DIR [--matches N] [--match-id ID ...] [--seed S]
                       [--workers N]
courtside corpus facts FILE [FILE ...]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from engine.cli import non_negative_int, positive_int
from replay.corpus.facts import FACT_NAMES


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `build` and `facts` sub-commands."""
    sub = parser.add_subparsers(
        dest="corpus_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    build = sub.add_parser("build", help="build ticks, simulated stream files and match info")
    build.add_argument(
        "--slams", required=True, type=Path, help="folder with matches.csv + points.parquet"
    )
    build.add_argument("--out", required=True, type=Path, help="output folder (created)")
    build.add_argument("--matches", type=positive_int, default=None, help="first N matches by id")
    build.add_argument(
        "--match-id", action="append", default=None, help="build exactly this match (repeatable)"
    )
    build.add_argument(
        "--seed", type=non_negative_int, default=0, help="random seed (same seed, same bytes)"
    )
    build.add_argument("--workers", type=positive_int, default=1, help="worker processes")
    build.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    build.set_defaults(handler=_build)
    facts = sub.add_parser("facts", help="stylized facts of stream files (in-play part)")
    facts.add_argument("files", nargs="+", type=Path, help="stream files (.bz2, .gz or plain)")
    facts.set_defaults(handler=_facts)


def _build(args: argparse.Namespace) -> int:
    from replay.corpus.builder import build_corpus, stderr_progress

    if args.matches is not None and args.match_id:
        raise ValueError("--matches: give either --matches or --match-id, not both")
    lines = build_corpus(
        args.slams,
        args.out,
        count=args.matches,
        match_ids=args.match_id,
        seed=args.seed,
        workers=args.workers,
        progress=None if args.no_progress else stderr_progress,
    )
    messages = sum(int(line["n_messages"]) for line in lines)
    sys.stdout.write(f"built {len(lines)} matches, {messages} stream messages in {args.out}\n")
    return 0


def _format(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _facts(args: argparse.Namespace) -> int:
    from replay.corpus.facts import stylized_facts

    columns = []
    for path in args.files:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        columns.append(stylized_facts(path).as_dict())
    header = ["fact", *[path.name for path in args.files]]
    sys.stdout.write("| " + " | ".join(header) + " |\n")
    sys.stdout.write("|" + "---|" * len(header) + "\n")
    for name in FACT_NAMES:
        cells = [_format(column[name]) for column in columns]
        sys.stdout.write(f"| {name} | " + " | ".join(cells) + " |\n")
    return 0
