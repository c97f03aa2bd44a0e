"""`courtside stream …`: print market books of a stream file (`books`); loopback server (`serve`).

`books` prints one JSON line per market-book update (one per market change in the file):
``{"pt", "market_id", "status", "inplay", "runners": [{"id", "status", "ltp", "tv", "back",
"lay"}]}``. `back` is best-to-back first (highest price first), `lay` best-to-lay first (lowest
first), each level ``[price, size]``. They come from the full-depth ladder (`atb`/`atl`) when the
stream carries it, else from best-display (`bdatb`/`bdatl`), else best (`batb`/`batl`) — the
precedence betfairlightweight uses for ``availableToBack``/``availableToLay``. `tv` is the
runner's traded volume as the stream sent it (0 until a ``tv`` arrives); a runner of a line market
also gets `"hc"` (its handicap) when that is not 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from adapters.betfair.historical import replay_market_updates
from adapters.betfair.processor import StreamProcessor
from engine.logs import get_logger
from engine.market import MarketBook

_log = get_logger("betfair.cli")
_FLUSH_EVERY = 512


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `books` and `serve` sub-commands."""
    subparsers = parser.add_subparsers(
        dest="stream_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    books = subparsers.add_parser(
        "books",
        help="print one JSON market book per update of a stream file",
        description="Replay a Betfair stream file (plain, .gz, .bz2) and print market books.",
    )
    books.add_argument("file", type=Path, help="historical stream file (one JSON message a line)")
    books.add_argument(
        "--depth", type=int, default=3, help="price levels per side and runner (default 3)"
    )
    books.set_defaults(handler=run_books)

    from adapters.betfair.loopback import cli as loopback_cli

    loopback_cli.register(subparsers)


def book_to_json(book: MarketBook, depth: int) -> dict[str, Any]:
    """The `books` output object of one market book."""
    runners = []
    for runner in book.runners.values():
        entry: dict[str, Any] = {
            "id": runner.selection_id,
            "status": runner.status,
            "ltp": runner.ltp,
            "tv": runner.tv,
            "back": runner.back_levels(depth),
            "lay": runner.lay_levels(depth),
        }
        if runner.handicap:
            entry["hc"] = runner.handicap
        runners.append(entry)
    return {
        "pt": book.publish_time,
        "market_id": book.market_id,
        "status": book.status,
        "inplay": book.inplay,
        "runners": runners,
    }


def run_books(args: argparse.Namespace) -> int:
    """Handler of `courtside stream books`."""
    depth: int = args.depth
    if depth < 1:
        raise ValueError(f"depth: {depth} must be at least 1")
    path: Path = args.file
    if not path.is_file():
        raise FileNotFoundError(f"file: {path} does not exist")
    processor = StreamProcessor()
    out = sys.stdout.buffer
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    pending: list[bytes] = []
    try:
        for update in replay_market_updates(path, processor):
            pending.append(dumps(book_to_json(update.book, depth), option=option))
            if len(pending) >= _FLUSH_EVERY:
                out.write(b"".join(pending))
                pending.clear()
        out.write(b"".join(pending))
        out.flush()
    except BrokenPipeError:  # e.g. piped into `head`: the reader has all it wants
        return 0
    counters = processor.counters
    _log.info(
        "stream file replayed",
        path=str(path),
        messages=counters.messages,
        market_updates=counters.market_updates,
        decode_errors=counters.decode_errors,
        malformed_changes=processor.cache.counters.malformed,
        unknown_runners=processor.cache.counters.unknown_runners,
        off_ladder_levels=processor.cache.counters.off_ladder_levels,
        off_ladder_ltp=processor.cache.counters.off_ladder_ltp,
    )
    return 0
