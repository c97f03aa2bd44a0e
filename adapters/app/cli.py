"""`courtside run [--config engine.toml] [--mode live|paper|demo]`: the trading daemon.

With no credentials configured the default mode is demo: the bundled sample day through the loopback
exchange and score provider at ×speed, traded against the simulated exchange; it exits by itself
when the day is over (or after --duration) and prints a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import orjson

from adapters.app.daemon import RunOptions, resolve_mode, run_daemon
from adapters.app.settings import load_settings


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="engine.toml to read")
    parser.add_argument(
        "--mode",
        choices=["live", "paper", "demo"],
        default=None,
        help="default: [daemon].mode (auto = live with credentials, else demo)",
    )
    parser.add_argument(
        "--speed", type=float, default=None, help="demo: x real time (default [daemon].demo_speed)"
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="stop after this many wall seconds"
    )
    parser.add_argument(
        "--api-port", type=int, default=None, help="control API port (0 = any free port)"
    )
    parser.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="MATCH_ID",
        help="demo: only these sample matches (repeatable; default all)",
    )
    parser.set_defaults(handler=run)


def _run_loop(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:  # uvloop is a dependency except on Windows
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.duration is not None and not args.duration > 0:
        raise ValueError(f"duration: must be positive, got {args.duration!r}")
    if args.speed is not None and not args.speed > 0:
        raise ValueError(f"speed: must be positive, got {args.speed!r}")
    options = RunOptions(
        mode=resolve_mode(settings, args.mode),
        speed=args.speed,
        duration_s=args.duration,
        api_port=args.api_port,
        match_ids=tuple(args.match),
    )
    summary = _run_loop(run_daemon(settings, options))
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
