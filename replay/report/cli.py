"""`courtside report DIR`: rebuild report.json and report.html from a replay run's outputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from replay.report.build import build_report


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a `courtside replay --out` folder")
    parser.add_argument("--no-html", action="store_true", help="report.json only")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"run_dir: {folder} is not a folder")
    report = build_report(folder, html=not args.no_html)
    sys.stdout.write(orjson.dumps(report["summary"], option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
