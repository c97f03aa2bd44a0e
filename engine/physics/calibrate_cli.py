"""`courtside physics calibrate`: pre-match odds -> de-vigged P(player 1) -> (p_a, p_b).

Prints one JSON object. Bad input (odds <= 1.0, unknown tour or surface, a sum outside (0, 2))
raises ValueError naming the field, which the dispatcher turns into exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.physics.calibration import (
    calibrate_from_odds,
    load_physics_config,
    normalise_surface,
    normalise_tour,
)
from engine.physics.devig import DEVIG_METHODS
from engine.physics.rules import FINAL_SET_RULES, MatchRules


def register(parser: argparse.ArgumentParser) -> None:
    """Add the calibrate options to `parser` (the `physics calibrate` sub-command parser)."""
    parser.add_argument(
        "--odds",
        nargs=2,
        type=float,
        required=True,
        metavar=("ODDS_P1", "ODDS_P2"),
        help="two-sided decimal pre-match odds, player 1 first (each > 1.0)",
    )
    parser.add_argument("--tour", required=True, help="ATP or WTA (selects the p_a + p_b sum)")
    parser.add_argument("--surface", required=True, help="Hard, Clay or Grass")
    parser.add_argument("--best-of", type=int, default=3, choices=(3, 5), help="default 3")
    parser.add_argument(
        "--final-set", default="tb7@6", choices=FINAL_SET_RULES, help="deciding-set rule"
    )
    parser.add_argument("--no-ad", action="store_true", help="no-ad games")
    parser.add_argument(
        "--devig",
        choices=DEVIG_METHODS,
        default=None,
        help="margin removal (default: engine.toml physics.devig, shipped as power)",
    )
    parser.add_argument(
        "--sum",
        type=float,
        default=None,
        dest="serve_sum",
        metavar="S",
        help="p_a + p_b to use instead of the tour/surface average",
    )
    parser.add_argument("--config", default=None, help="engine.toml to read (default: shipped)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_physics_config(args.config)
    tour = normalise_tour(args.tour)
    surface = normalise_surface(args.surface)
    rules = MatchRules(best_of=args.best_of, final_set=args.final_set, no_ad=args.no_ad)
    if args.serve_sum is not None and not 0.0 < args.serve_sum < 2.0:
        raise ValueError(f"sum: p_a + p_b must lie in (0, 2), got {args.serve_sum!r}")
    serve_sum = config.serve_sum(tour, surface) if args.serve_sum is None else args.serve_sum
    method = args.devig or config.devig
    odds_p1, odds_p2 = args.odds
    result = calibrate_from_odds(odds_p1, odds_p2, rules, serve_sum, method)
    payload = {
        "p1_prematch": result.p1_prematch,
        "pa": result.pa,
        "pb": result.pb,
        "devig": result.devig,
        "serve_sum": result.serve_sum,
        "tour": tour,
        "surface": surface,
        "best_of": rules.best_of,
        "final_set": rules.final_set,
        "no_ad": rules.no_ad,
    }
    sys.stdout.write(json.dumps(payload) + "\n")
    return 0
