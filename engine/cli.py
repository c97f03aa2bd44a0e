"""The `courtside` command line: a thin dispatcher over per-package command modules.

Command modules are named by dotted path and imported lazily, for two reasons: start-up stays fast
(`courtside stream …` never pays for numba or ONNX Runtime), and `engine` keeps no static import of
`adapters`, `replay` or `training` (DESIGN.md §2) — the CLI is the composition root that wires them.

Each command module exposes ``register(parser)``, which adds its options (and sub-commands) and sets
``handler`` defaults: a callable taking the parsed namespace and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from engine import __version__
from engine.logs import configure_logging

# name -> (module, one-line help). Keep alphabetical.
COMMANDS: dict[str, tuple[str, str]] = {
    "physics": ("engine.physics.cli", "tennis Markov model: price, calibrate, eval"),
    "stream": ("adapters.betfair.cli", "Betfair stream files: books, loopback server"),
    "corpus": ("replay.corpus.cli", "build the replay corpus from slam point-by-point data"),
    "scores": ("adapters.scores.cli", "score-tick files: validate and inspect"),
    "train": ("training.cli.train", "train an emulator (GRU/Transformer) or the serve prior"),
    "export": ("training.cli.export", "export a trained emulator to ONNX + metadata"),
    "dataset": ("training.cli.dataset", "align a corpus, tensorise it, retrain all shipped models"),
    "models": ("engine.models.cli", "list exported models with their metadata"),
    "run": ("adapters.app.cli", "run the trading daemon (demo, paper or live)"),
    "replay": ("replay.cli", "backtest recorded days through the engine and simulated exchange"),
    "report": ("replay.report.cli", "rebuild a replay run's report.json and report.html"),
}

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line input; reported as one line with exit status 2."""


class CourtsideArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error message (exit 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


Handler = Callable[[argparse.Namespace], int]


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (counts, workers)."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (seeds)."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _top_level_parser() -> CourtsideArgumentParser:
    parser = CourtsideArgumentParser(
        prog="courtside",
        description="Tennis in-play pricing and trading engine for the Betfair Exchange.",
    )
    parser.add_argument("--version", action="version", version=f"courtside {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="minimum level of structured log lines (stderr)",
    )
    return parser


def build_parser(command: str | None) -> CourtsideArgumentParser:
    """Build the parser with every command listed but only `command`'s module imported."""
    parser = _top_level_parser()
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=CourtsideArgumentParser
    )
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(module_name)
            module.register(sub)
    return parser


def _requested_command(argv: Sequence[str]) -> str | None:
    """The command named in argv, skipping top-level options and their values."""
    takes_value = {
        option
        for action in _top_level_parser()._actions
        if action.option_strings and action.nargs != 0
        for option in action.option_strings
    }
    tokens = iter(argv)
    for token in tokens:
        if token in takes_value:
            next(tokens, None)
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_requested_command(args_list))
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits for --help/--version/errors
        return int(exc.code or 0)

    configure_logging(args.log_level)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except (UsageError, ValueError, FileNotFoundError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"courtside {args.command}: error: {message}\n")
        return EXIT_USAGE
