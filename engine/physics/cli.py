"""`courtside physics …`: price a score (here), calibrate to pre-match odds, evaluate on real data.

`calibrate` and `eval` live in their own modules; each exposes ``register(parser)`` that fills in
the sub-command parser made here.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from engine.physics import calibrate_cli, eval_cli
from engine.physics.rules import FINAL_SET_RULES, MatchRules


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `price`, `calibrate` and `eval` sub-commands to the `physics` parser."""
    subparsers = parser.add_subparsers(
        dest="physics_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    price_parser = subparsers.add_parser(
        "price",
        help="P(player 1 wins) and friends from a score",
        description="Price an in-play score with the Markov chain; prints one JSON object.",
    )
    _register_price(price_parser)
    calibrate_cli.register(
        subparsers.add_parser(
            "calibrate",
            help="pre-match odds -> (p_a, p_b)",
            description="De-vig pre-match odds and solve for serve-point probabilities.",
        )
    )
    eval_cli.register(
        subparsers.add_parser(
            "eval",
            help="evaluate on slam point-by-point data",
            description="Log loss, Brier, calibration of P(player 1 wins) before every point.",
        )
    )


def _register_price(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pa", type=float, required=True, help="P(player 1 wins a point on own serve), in (0, 1)"
    )
    parser.add_argument(
        "--pb", type=float, required=True, help="P(player 2 wins a point on own serve), in (0, 1)"
    )
    parser.add_argument("--best-of", type=int, choices=(3, 5), default=3, help="default 3")
    parser.add_argument(
        "--final-set",
        choices=FINAL_SET_RULES,
        default="tb7@6",
        help="deciding-set rule (default tb7@6)",
    )
    parser.add_argument(
        "--no-ad", action="store_true", help="no-ad games (deciding point at 40-40)"
    )
    parser.add_argument(
        "--score",
        default="",
        help='"SETS GAMES POINTS", player 1 first, e.g. "1-0 4-5 30-40" or "0-0 6-6 5-6" in a '
        "tiebreak; missing trailing parts are 0-0 (default: start of the match)",
    )
    parser.add_argument(
        "--server", type=int, default=1, help="who serves the next point: 1 or 2 (default 1)"
    )
    parser.set_defaults(handler=run_price)


def run_price(args: argparse.Namespace) -> int:
    """Print the pricing of one score as a JSON object."""
    from engine.physics.pricing import price
    from engine.physics.state import parse_score

    rules = MatchRules(best_of=args.best_of, final_set=args.final_set, no_ad=args.no_ad)
    state = parse_score(args.score, args.server, rules)
    result = price(args.pa, args.pb, rules, state)
    payload = {
        "p_match": result.p_match,
        "p_set": result.p_set,
        "p_game": result.p_game,
        "if_point_won": result.if_point_won,
        "if_point_lost": result.if_point_lost,
        "expected_games_diff": result.expected_games_diff,
        "set_score_pmf": result.set_score_pmf,
    }
    sys.stdout.write(orjson.dumps(payload).decode() + "\n")
    return 0
