"""Pure builders: plain inputs -> float32 static vector and per-point token, in schema order.

The builder fills a name -> value mapping and lays it out by TOKEN_COLUMNS, refusing a missing or
extra name, so the layout can only come from schema.py.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.features.inputs import (
    BookSummary,
    FairInputs,
    MatchCounters,
    PlayerServeCounts,
    PointInputs,
    ScoreInputs,
)
from engine.features.schema import (
    BOOK_COLUMNS,
    STATIC_COLUMNS,
    STATIC_DIM,
    SURFACES,
    TOKEN_COLUMNS,
    TOKEN_DIM,
    VARIANT_FULL,
    VARIANT_LITE,
    book_mask,
)

FloatArray = npt.NDArray[np.float32]

LOGIT_CLIP: Final = 6.0
PTS_SINCE_MTO_CAP: Final = 99
MTO_DECAY_POINTS: Final = 10.0
SHRINK_POINTS: Final = 10.0
# tour-wide serve priors the shrunk shares start from
PRIOR_SERVE_WON: Final = 0.62
PRIOR_FIRST_IN: Final = 0.62
PRIOR_FIRST_WON: Final = 0.72
PRIOR_SECOND_WON: Final = 0.52
PRIOR_ACE: Final = 0.06
PRIOR_DF: Final = 0.04
_BOOK_MASK: Final = book_mask()


def _check_prob(name: str, value: float) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name}: must be a probability in [0, 1], got {value!r}")
    return float(value)


def _logit(p: float) -> float:
    eps = 1.0 / (1.0 + math.exp(LOGIT_CLIP))
    q = min(max(p, eps), 1.0 - eps)
    return math.log(q / (1.0 - q))


def build_static(pre_match_prob: float, best_of: int, surface: str) -> FloatArray:
    """Static vector (STATIC_DIM,): pre-match logit of player 1, best-of and surface one-hots."""
    _check_prob("pre_match_prob", pre_match_prob)
    if best_of not in (3, 5):
        raise ValueError(f"best_of: must be 3 or 5, got {best_of!r}")
    key = surface.strip().lower()
    if key not in SURFACES:
        raise ValueError(f"surface: must be one of {list(SURFACES)}, got {surface!r}")
    values = {
        "pre_match_logit": _logit(pre_match_prob),
        "best_of_3": float(best_of == 3),
        "best_of_5": float(best_of == 5),
        **{f"surface_{s}": float(s == key) for s in SURFACES},
    }
    out = np.fromiter((values[n] for n in STATIC_COLUMNS), dtype=np.float32, count=STATIC_DIM)
    return out


def _game_point(mine: int, theirs: int, tiebreak: bool, target: int, no_ad: bool) -> bool:
    if tiebreak:
        return mine >= target - 1 and mine > theirs
    if no_ad and mine == 3 and theirs == 3:
        return True
    return mine >= 3 and mine > theirs


def _score_features(s: ScoreInputs) -> dict[str, float]:
    rules = s.rules
    deciding = rules.is_deciding_set(s.p1_sets, s.p2_sets)
    target = rules.tiebreak_target(deciding)
    tb = s.in_tiebreak
    gp1 = _game_point(s.p1_points, s.p2_points, tb, target, rules.no_ad)
    gp2 = _game_point(s.p2_points, s.p1_points, tb, target, rules.no_ad)
    # winning this game wins the set: a tiebreak, or reaching 6+ games two clear
    sp1 = gp1 and (tb or (s.p1_games + 1 >= 6 and s.p1_games + 1 - s.p2_games >= 2))
    sp2 = gp2 and (tb or (s.p2_games + 1 >= 6 and s.p2_games + 1 - s.p1_games >= 2))
    receiver_gp = gp2 if s.server == 1 else gp1
    return {
        "server_is_p1": float(s.server == 1),
        "p1_sets": s.p1_sets / 3.0,
        "p2_sets": s.p2_sets / 3.0,
        "p1_games": s.p1_games / 6.0,
        "p2_games": s.p2_games / 6.0,
        "p1_points": 0.0 if tb else s.p1_points / 4.0,
        "p2_points": 0.0 if tb else s.p2_points / 4.0,
        "p1_tb_points": s.p1_points / 7.0 if tb else 0.0,
        "p2_tb_points": s.p2_points / 7.0 if tb else 0.0,
        "in_tiebreak": float(tb),
        "tiebreak_to_10": float(tb and target == 10),
        "set_no": (s.p1_sets + s.p2_sets + 1) / 5.0,
        "deciding_set": float(deciding),
        "p1_game_point": float(gp1),
        "p2_game_point": float(gp2),
        "break_point": float(receiver_gp),
        "p1_set_point": float(sp1),
        "p2_set_point": float(sp2),
        "p1_match_point": float(sp1 and s.p1_sets == rules.sets_to_win - 1),
        "p2_match_point": float(sp2 and s.p2_sets == rules.sets_to_win - 1),
    }


def _shrunk(hits: int, trials: int, prior: float) -> float:
    return (hits + SHRINK_POINTS * prior) / (trials + SHRINK_POINTS)


def _player_serve(prefix: str, c: PlayerServeCounts) -> dict[str, float]:
    return {
        f"{prefix}_serve_points": c.points / 100.0,
        f"{prefix}_serve_won": _shrunk(c.won, c.points, PRIOR_SERVE_WON),
        f"{prefix}_first_in": _shrunk(c.first_in, c.detail_points, PRIOR_FIRST_IN),
        f"{prefix}_first_won": _shrunk(c.first_won, c.first_in, PRIOR_FIRST_WON),
        f"{prefix}_second_won": _shrunk(c.second_won, c.second_points, PRIOR_SECOND_WON),
        f"{prefix}_ace_rate": _shrunk(c.aces, c.detail_points, PRIOR_ACE),
        f"{prefix}_df_rate": _shrunk(c.double_faults, c.detail_points, PRIOR_DF),
    }


def _serve_features(c: MatchCounters) -> dict[str, float]:
    last = {0: 0.5, 1: 1.0, 2: 0.0}[c.last_winner]
    return {
        **_player_serve("p1", c.p1),
        **_player_serve("p2", c.p2),
        "serve_detail_known": float(c.p1.detail_points + c.p2.detail_points > 0),
        "p1_points_won_share": (c.p1_points_won / c.points_played if c.points_played else 0.5),
        "p1_recent_share": c.p1_recent_share,
        "last_point_p1": last,
        "streak": max(-1.0, min(1.0, c.streak / 10.0)),
    }


def _boundary_features(s: ScoreInputs) -> dict[str, float]:
    new_game = s.p1_points == 0 and s.p2_points == 0
    games = s.p1_games + s.p2_games
    return {
        "new_game": float(new_game),
        "changeover": float(new_game and games % 2 == 1),
        "set_break": float(new_game and games == 0 and s.p1_sets + s.p2_sets > 0),
    }


def _mto_features(pts_since_mto: int | None) -> dict[str, float]:
    if pts_since_mto is None:
        return {"mto_flag": 0.0, "pts_since_mto": 1.0, "exp_decay_mto": 0.0}
    if pts_since_mto < 0:
        raise ValueError(f"pts_since_mto: must be >= 0, got {pts_since_mto!r}")
    capped = min(pts_since_mto, PTS_SINCE_MTO_CAP)
    return {
        "mto_flag": 1.0,
        "pts_since_mto": capped / PTS_SINCE_MTO_CAP,
        "exp_decay_mto": math.exp(-capped / MTO_DECAY_POINTS),
    }


def _fair_features(f: FairInputs) -> dict[str, float]:
    fair = _check_prob("fair_prob", f.fair_prob)
    prev = fair if f.prev_fair_prob is None else _check_prob("prev_fair_prob", f.prev_fair_prob)
    win = _check_prob("fair_if_p1_wins", f.fair_if_p1_wins)
    lose = _check_prob("fair_if_p1_loses", f.fair_if_p1_loses)
    return {"fair_prob": fair, "fair_delta": fair - prev, "fair_leverage": win - lose}


def _inv(price: float | None) -> float:
    if price is None:
        return 0.0
    if not (math.isfinite(price) and price >= 1.0):
        raise ValueError(f"price: must be decimal odds >= 1, got {price!r}")
    return 1.0 / price


def _log_size(size: float) -> float:
    if not (math.isfinite(size) and size >= 0.0):
        raise ValueError(f"size: must be a non-negative amount, got {size!r}")
    return math.log1p(size) / 10.0


def _mid_prob(b: BookSummary) -> float:
    back, lay = _inv(b.back_price), _inv(b.lay_price)
    if back and lay:
        return 0.5 * (back + lay)
    return back or lay


def _book_features(book: BookSummary | None, prev: BookSummary | None) -> dict[str, float]:
    if book is None:
        return dict.fromkeys(BOOK_COLUMNS, 0.0)
    back, p2_back = _inv(book.back_price), _inv(book.p2_back_price)
    back_depth, lay_depth = _log_size(book.back_depth), _log_size(book.lay_depth)
    total = book.back_depth + book.lay_depth
    back_size, lay_size = _log_size(book.back_size), _log_size(book.lay_size)
    if prev is None:
        d_back = d_lay = d_mid = d_traded = 0.0
    else:
        d_back = back_size - _log_size(prev.back_size)
        d_lay = lay_size - _log_size(prev.lay_size)
        d_mid = _mid_prob(book) - _mid_prob(prev)
        d_traded = _log_size(max(0.0, book.traded - prev.traded))
    return {
        "back_prob": back,
        "lay_prob": _inv(book.lay_price),
        "spread_ticks": min(max(book.spread_ticks, 0) / 10.0, 1.0),
        "back_size": back_size,
        "lay_size": lay_size,
        "back_prob_50": _inv(book.back_price_50),
        "lay_prob_50": _inv(book.lay_price_50),
        "back_depth": back_depth,
        "lay_depth": lay_depth,
        "imbalance": (book.back_depth - book.lay_depth) / total if total > 0 else 0.0,
        "d_back_size": d_back,
        "d_lay_size": d_lay,
        "d_mid_prob": d_mid,
        "ltp_prob": _inv(book.ltp),
        "d_traded": d_traded,
        "p2_back_prob": p2_back,
        "p2_lay_prob": _inv(book.p2_lay_price),
        "overround": back + p2_back - 1.0 if back and p2_back else 0.0,
        "suspended": float(book.suspended),
        "liq_collapse": float(book.liq_collapse),
    }


def _residual(inputs: PointInputs) -> dict[str, float]:
    if inputs.prev_market_prob is None or inputs.fair.prev_fair_prob is None:
        return {"residual": 0.0}
    market = _check_prob("prev_market_prob", inputs.prev_market_prob)
    return {"residual": market - _check_prob("prev_fair_prob", inputs.fair.prev_fair_prob)}


def token_values(inputs: PointInputs) -> dict[str, float]:
    """The token as a name -> value mapping (for inspection and tests)."""
    return {
        **_score_features(inputs.score),
        **_serve_features(inputs.counters),
        **_boundary_features(inputs.score),
        **_mto_features(inputs.pts_since_mto),
        **_fair_features(inputs.fair),
        **_book_features(inputs.book, inputs.prev_book),
        **_residual(inputs),
    }


def build_token(
    inputs: PointInputs, variant: str = VARIANT_FULL, out: FloatArray | None = None
) -> FloatArray:
    """Token (TOKEN_DIM,) float32 in schema order; `out` (if given) is filled in place."""
    values = token_values(inputs)
    if len(values) != TOKEN_DIM:
        extra = sorted(set(values) - set(TOKEN_COLUMNS))
        raise RuntimeError(f"feature builder out of step with the schema: {extra}")
    target = np.empty(TOKEN_DIM, dtype=np.float32) if out is None else out
    target[:] = [values[name] for name in TOKEN_COLUMNS]
    return apply_variant(target, variant)


def apply_variant(tokens: FloatArray, variant: str) -> FloatArray:
    """Zero the book columns (last axis) in place for emu_lite; identity for emu_full."""
    if variant == VARIANT_LITE:
        tokens[..., _BOOK_MASK] = 0.0
    elif variant != VARIANT_FULL:
        raise ValueError(f"variant: must be 'full' or 'lite', got {variant!r}")
    return tokens
