"""`courtside stream serve FILE`: run the loopback exchange on a recorded stream file.

Prints one JSON line once listening — ``{"port", "http_port", "tls", "ca_file", "app_key",
"session"}`` (a session token valid on this server only) — then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from adapters.betfair.loopback.recording import Recording
from adapters.betfair.loopback.server import LoopbackExchange, RouteRegistrar
from adapters.betfair.stream_config import load_loopback_settings
from engine.config import load_toml


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` sub-command to the `stream` command's sub-parsers."""
    serve = subparsers.add_parser(
        "serve",
        help="run the loopback exchange (stream + identity) on a recorded stream file",
        description="Publish a recorded Betfair stream file over the Exchange Stream protocol.",
    )
    serve.add_argument("file", type=Path, help="historical stream file (plain, .gz, .bz2)")
    serve.add_argument("--port", type=int, default=None, help="stream port (0 = any free port)")
    serve.add_argument("--http-port", type=int, default=None, help="identity/betting HTTP port")
    serve.add_argument(
        "--speed", type=float, default=None, help="x real time (0 = as fast as clients read)"
    )
    serve.add_argument(
        "--max-gap-ms", type=int, default=None, help="cap on recorded gaps before the speed-up"
    )
    serve.add_argument("--tls", action="store_true", default=None, help="TLS, self-signed cert")
    serve.add_argument(
        "--routes",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="extra HTTP routes: registrar(app, exchange) (repeatable)",
    )
    serve.add_argument("--config", type=Path, default=None, help="engine.toml to read")
    serve.set_defaults(handler=run_serve)


def _registrar(spec: str) -> RouteRegistrar:
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise ValueError(f"routes: {spec!r} is not MODULE:FUNCTION")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"routes: cannot import {module_name} ({exc})") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(f"routes: {module_name} has no function {function_name}")
    registrar: RouteRegistrar = function
    return registrar


def run_serve(args: argparse.Namespace) -> int:
    settings = load_loopback_settings(load_toml(args.config))
    overrides = {
        "port": args.port,
        "http_port": args.http_port,
        "speed": args.speed,
        "max_gap_ms": args.max_gap_ms,
        "tls": args.tls,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    settings.validate()
    path: Path = args.file
    if not path.is_file():
        raise FileNotFoundError(f"file: {path} does not exist")
    registrars = [_registrar(spec) for spec in args.routes]
    recording = Recording.load(path)
    exchange = LoopbackExchange(recording, settings.to_config(), route_registrars=registrars)
    return _run_loop(_serve(exchange))


def _run_loop(coroutine: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:  # uvloop is a dependency except on Windows
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def _serve(exchange: LoopbackExchange) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await exchange.start()
    line = {
        "port": exchange.port,
        "http_port": exchange.http_port,
        "tls": exchange.config.tls,
        "ca_file": exchange.ca_file,
        "app_key": exchange.config.app_key,
        "session": exchange.issue_session(),
    }
    sys.stdout.write(orjson.dumps(line).decode() + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await exchange.stop()
    return 0
