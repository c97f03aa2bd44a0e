"""`courtside replay PATHS… [--config engine.toml] [--workers N] [--executor process|ray]
[--out DIR] [--shadow] [--metrics-file [PATH]]`: backtest recorded days through the daemon's
engine, strategy, risk and simulated exchange.

PATHS are corpus day folders, match folders or Betfair stream files (replay.tasks). Progress
(events/s) is drawn on stderr; the run's summary (JSON) is printed on stdout; the outputs and
report.json/report.html are in --out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

import orjson

from replay.runner import ReplayOptions
from replay.session import RunSpec, run_replay
from replay.tasks import discover_tasks


class ProgressBar:
    """One redrawn stderr line: tasks done, events, events/s (nothing when stderr is not a tty
    and `force` is off, so logs stay clean)."""

    def __init__(self, tasks: int, stream: TextIO, force: bool = False) -> None:
        self.tasks = tasks
        self.stream = stream
        self.enabled = force or stream.isatty()
        self.events = 0
        self.started = time.perf_counter()
        self._drawn = 0.0

    def __call__(self, events: int, finished: int) -> None:
        self.events += events
        now = time.perf_counter()
        if not self.enabled or (now - self._drawn < 0.2 and finished < self.tasks):
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-9)
        width = 24
        filled = int(width * finished / self.tasks) if self.tasks else width
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {finished}/{self.tasks} tasks "
            f"{self.events:,} events {self.events / elapsed:,.0f} ev/s"
        )
        if finished >= self.tasks:  # end the line before anything else is logged
            self.stream.write("\n")
            self.enabled = False
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="corpus folders, match folders or stream files")
    parser.add_argument("--config", default=None, help="engine.toml (default: the repository's)")
    parser.add_argument("--workers", type=int, default=1, help="parallel tasks (default 1)")
    parser.add_argument("--executor", choices=["process", "ray"], default="process")
    parser.add_argument("--out", default="runs/replay", help="output folder (default runs/replay)")
    parser.add_argument(
        "--shadow", action="store_true", help="zero stakes: record decisions and would-be orders"
    )
    parser.add_argument(
        "--metrics-file",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="also write the run's merged Prometheus textfile (default OUT/metrics.prom)",
    )
    parser.add_argument("--no-html", action="store_true", help="report.json only")
    parser.add_argument("--progress", action="store_true", help="draw progress even off a tty")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise ValueError(f"workers: must be at least 1, got {args.workers}")
    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"config: {args.config} does not exist")
    tasks = discover_tasks(args.paths)
    out = Path(args.out)
    metrics_file = None
    if args.metrics_file is not None:
        metrics_file = args.metrics_file or str(out / "metrics.prom")
    spec = RunSpec(
        options=ReplayOptions(
            out_dir=str(out),
            config_path=args.config,
            shadow=args.shadow,
            log_level=getattr(args, "log_level", None),
        ),
        workers=args.workers,
        executor=args.executor,
        metrics_file=metrics_file,
        html=not args.no_html,
    )
    bar = ProgressBar(len(tasks), sys.stderr, force=args.progress)
    try:
        summary = run_replay(tasks, spec, bar)
    finally:
        bar.close()
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
