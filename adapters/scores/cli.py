"""`courtside scores …`: validate (`check`), inspect (`show`), publish (`serve`) and follow
(`listen`) score ticks.

`check FILE…` runs every tick through the score state machine and prints one JSON summary per
file: lines, ticks, malformed lines by reason, tick outcomes by reason, and per match the status,
winner, how it ended, trust and last seq. Exit status 0 when every line parsed and every tick was
applied (duplicates allowed), 1 otherwise.

`show FILE` prints one JSON line per tick with the outcome and the score after it
(``"score": "6-4 2-1 30-15"``, sets completed then games then points, player 1 first).

`listen URL` subscribes to a provider (with the reconnecting, resuming client) and prints each
tick like `show`.

`serve FILE…` publishes tick files on a loopback WebSocket provider (docs/score-ticks.md) for the
demo and paper modes: as fast as possible, or `--speed` times real time; it keeps serving (late
subscribers get the whole history) until interrupted or `--linger` seconds after the last tick.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

from adapters.scores.tickfile import ReadStats, read_ticks
from engine.score.book import ScoreBook
from engine.score.machine import MatchScoreMachine
from engine.score.stats import TickOutcome
from engine.score.ticks import ScoreTick

_POINT_WORDS = ("0", "15", "30", "40")
_OK_OUTCOMES = frozenset({"applied", "resynced", "duplicate"})


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `check`, `show` and `serve` sub-commands."""
    subparsers = parser.add_subparsers(
        dest="scores_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    check = subparsers.add_parser(
        "check",
        help="validate tick files through the score state machine (JSON summary)",
        description="Validate score-tick files (JSON lines, .gz allowed); exit 1 on any problem.",
    )
    check.add_argument("files", type=Path, nargs="+", metavar="FILE", help="tick file")
    check.set_defaults(handler=run_check)

    show = subparsers.add_parser(
        "show",
        help="print each tick with its outcome and the score after it",
        description="Print one JSON line per tick: seq, type, outcome and the score after it.",
    )
    show.add_argument("file", type=Path, metavar="FILE", help="tick file")
    show.add_argument("--match", default=None, help="only this match id")
    show.set_defaults(handler=run_show)

    serve = subparsers.add_parser(
        "serve",
        help="publish tick files on a loopback WebSocket score provider",
        description="Publish tick files to WebSocket subscribers at ws://HOST:PORT/scores.",
    )
    serve.add_argument("files", type=Path, nargs="+", metavar="FILE", help="tick file")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    serve.add_argument(
        "--speed", type=float, default=None, help="times real time (default: as fast as possible)"
    )
    serve.add_argument(
        "--linger",
        type=float,
        default=None,
        help="seconds to keep serving after the last tick (default: until interrupted)",
    )
    serve.set_defaults(handler=run_serve)

    listen = subparsers.add_parser(
        "listen",
        help="subscribe to a score provider and print each tick with its outcome",
        description="Connect to a score provider (reconnecting, resuming) and print one JSON "
        "line per tick: seq, type, outcome and the score after it.",
    )
    listen.add_argument("url", help="provider WebSocket URL, e.g. ws://127.0.0.1:8765/scores")
    listen.add_argument("--matches", default="all", help="comma-separated match ids (default: all)")
    listen.add_argument(
        "--count", type=int, default=None, help="stop after this many ticks (default: never)"
    )
    listen.set_defaults(handler=run_listen)


def format_score(machine: MatchScoreMachine) -> str:
    """'6-4 7-6 2-1 30-15' — completed sets, then games, then points (player 1 first)."""
    score = machine.score
    if score is None:
        return ""
    parts = [f"{a}-{b}" for a, b in score.set_scores]
    if score.is_complete:
        return " ".join(parts)
    parts.append(f"{score.games[0]}-{score.games[1]}")
    p1, p2 = score.points
    if score.tiebreak:
        parts.append(f"{p1}-{p2}")
    elif min(p1, p2) >= 3:
        parts.append("40-40" if p1 == p2 else ("AD-40" if p1 > p2 else "40-AD"))
    else:
        parts.append(f"{_POINT_WORDS[p1]}-{_POINT_WORDS[p2]}")
    return " ".join(parts)


def _check_file(path: Path) -> tuple[dict[str, Any], bool]:
    if not path.is_file():
        raise FileNotFoundError(f"file: {path} not found")
    read = ReadStats()
    book = ScoreBook()
    for tick in read_ticks(path, read):
        book.apply(tick)
    outcomes = book.stats.as_dict()
    matches = {
        m.match_id: {
            "status": m.status,
            "phase": m.phase,
            "winner": m.winner,
            "ended_by": m.ended_by,
            "trusted": m.trusted,
            "untrusted_reason": m.untrusted_reason,
            "last_seq": m.last_seq,
            "score": format_score(m),
        }
        for m in book
    }
    ok = read.malformed_total == 0 and set(outcomes) <= _OK_OUTCOMES
    summary = {
        "file": str(path),
        "ok": ok,
        "lines": read.lines,
        "ticks": read.ticks,
        "malformed": dict(sorted(read.malformed.items())),
        "outcomes": outcomes,
        "matches": matches,
    }
    return summary, ok


def run_check(args: argparse.Namespace) -> int:
    """Handler of `courtside scores check`."""
    all_ok = True
    for path in args.files:
        summary, ok = _check_file(path)
        all_ok &= ok
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    return 0 if all_ok else 1


def run_show(args: argparse.Namespace) -> int:
    """Handler of `courtside scores show`."""
    path: Path = args.file
    if not path.is_file():
        raise FileNotFoundError(f"file: {path} not found")
    book = ScoreBook()
    out = sys.stdout
    for tick in read_ticks(path):
        if args.match is not None and tick.match_id != args.match:
            continue
        out.write(_tick_line(book, tick) + "\n")
    return 0


def _tick_line(book: ScoreBook, tick: ScoreTick) -> str:
    """Apply `tick` and describe the result as one JSON line."""
    outcome: TickOutcome = book.apply(tick)
    machine = book.get(tick.match_id)
    assert machine is not None
    score = machine.score
    line = {
        "match_id": tick.match_id,
        "seq": tick.seq,
        "ts": tick.ts,
        "type": tick.type,
        "outcome": outcome.value,
        "phase": machine.phase,
        "trusted": machine.trusted,
        "score": format_score(machine),
        "server": None if score is None or score.is_complete else score.server,
    }
    return orjson.dumps(line).decode()


async def _listen(args: argparse.Namespace) -> None:
    from adapters.scores.wsclient import ResumePoint, ScoreFeedClient
    from engine.score.config import load_scores_config

    book = ScoreBook()
    seen = 0
    matches = "all" if args.matches == "all" else [m for m in args.matches.split(",") if m]
    client: ScoreFeedClient | None = None

    def on_tick(tick: ScoreTick) -> None:
        nonlocal seen
        sys.stdout.write(_tick_line(book, tick) + "\n")
        sys.stdout.flush()
        seen += 1
        if args.count is not None and seen >= args.count and client is not None:
            client.stop()

    client = ScoreFeedClient(
        args.url,
        on_tick,
        matches,
        load_scores_config(),
        resume=lambda: ResumePoint(book.resume_seqs(), tuple(book.needing_snapshot())),
    )
    await client.run()


def run_listen(args: argparse.Namespace) -> int:
    """Handler of `courtside scores listen`."""
    if not str(args.url).startswith(("ws://", "wss://")):
        raise ValueError(f"url: must start with ws:// or wss://, got {args.url!r}")
    if args.count is not None and args.count < 1:
        raise ValueError(f"count: must be at least 1, got {args.count}")
    try:
        asyncio.run(_listen(args))
    except KeyboardInterrupt:
        return 0
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from adapters.scores.loopback import LoopbackScoreServer

    for path in args.files:
        if not path.is_file():
            raise FileNotFoundError(f"file: {path} not found")
    server = LoopbackScoreServer(args.host, args.port, heartbeat_s=5.0)
    url = await server.start()
    sys.stdout.write(orjson.dumps({"url": url}).decode() + "\n")
    sys.stdout.flush()
    try:
        counts = await asyncio.gather(*(server.publish_file(p, args.speed) for p in args.files))
        sys.stdout.write(orjson.dumps({"published": sum(counts)}).decode() + "\n")
        sys.stdout.flush()
        if args.linger is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(args.linger)
    finally:
        await server.stop()


def run_serve(args: argparse.Namespace) -> int:
    """Handler of `courtside scores serve`."""
    if args.speed is not None and not args.speed > 0:
        raise ValueError(f"speed: must be > 0, got {args.speed}")
    if args.port < 0 or args.port > 65535:
        raise ValueError(f"port: must be 0..65535, got {args.port}")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
    return 0
