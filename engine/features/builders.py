"""Pure builders: plain inputs -> float32 static vector and per-point token, in schema order.

The token is built on every point of every match on the engine's hot path, so each feature group
returns its values positionally (no name -> value mapping, no intermediate objects); the group
name tuples beside the code are checked against TOKEN_COLUMNS at import, so the layout can still
only come from schema.py. Values are computed as Python floats (doubles) and rounded to float32
once, when the row is laid out: training's tensorise goes through the same functions, so the
tokens the models were trained on and the tokens the engine feeds them are bit-identical.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.features.inputs import (
    BookSummary,
    MatchCounters,
    PlayerServeCounts,
    PointInputs,
    ScoreInputs,
)
from engine.features.schema import (
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


# Each group's values are returned in the order of its names below; the concatenation of the
# names is checked against TOKEN_COLUMNS at import, so the layout still comes from schema.py.
_SCORE_NAMES: Final = (
    "server_is_p1",
    "p1_sets",
    "p2_sets",
    "p1_games",
    "p2_games",
    "p1_points",
    "p2_points",
    "p1_tb_points",
    "p2_tb_points",
    "in_tiebreak",
    "tiebreak_to_10",
    "set_no",
    "deciding_set",
    "p1_game_point",
    "p2_game_point",
    "break_point",
    "p1_set_point",
    "p2_set_point",
    "p1_match_point",
    "p2_match_point",
)


def _score_values(s: ScoreInputs) -> list[float]:
    rules = s.rules
    p1_sets, p2_sets = s.p1_sets, s.p2_sets
    p1_games, p2_games = s.p1_games, s.p2_games
    p1_points, p2_points = s.p1_points, s.p2_points
    deciding = rules.is_deciding_set(p1_sets, p2_sets)
    target = rules.tiebreak_target(deciding)
    tb = s.in_tiebreak
    gp1 = _game_point(p1_points, p2_points, tb, target, rules.no_ad)
    gp2 = _game_point(p2_points, p1_points, tb, target, rules.no_ad)
    # winning this game wins the set: a tiebreak, or reaching 6+ games two clear
    sp1 = gp1 and (tb or (p1_games + 1 >= 6 and p1_games + 1 - p2_games >= 2))
    sp2 = gp2 and (tb or (p2_games + 1 >= 6 and p2_games + 1 - p1_games >= 2))
    last_set = rules.sets_to_win - 1
    return [
        float(s.server == 1),
        p1_sets / 3.0,
        p2_sets / 3.0,
        p1_games / 6.0,
        p2_games / 6.0,
        0.0 if tb else p1_points / 4.0,
        0.0 if tb else p2_points / 4.0,
        p1_points / 7.0 if tb else 0.0,
        p2_points / 7.0 if tb else 0.0,
        float(tb),
        float(tb and target == 10),
        (p1_sets + p2_sets + 1) / 5.0,
        float(deciding),
        float(gp1),
        float(gp2),
        float(gp2 if s.server == 1 else gp1),  # the receiver's game point
        float(sp1),
        float(sp2),
        float(sp1 and p1_sets == last_set),
        float(sp2 and p2_sets == last_set),
    ]


_SERVE_PER_PLAYER: Final = (
    "serve_points",
    "serve_won",
    "first_in",
    "first_won",
    "second_won",
    "ace_rate",
    "df_rate",
)
_SERVE_NAMES: Final = (
    *(f"p1_{n}" for n in _SERVE_PER_PLAYER),
    *(f"p2_{n}" for n in _SERVE_PER_PLAYER),
    "serve_detail_known",
    "p1_points_won_share",
    "p1_recent_share",
    "last_point_p1",
    "streak",
)
_LAST_POINT_P1: Final = {0: 0.5, 1: 1.0, 2: 0.0}


# A share shrunk to its prior is (hits + SHRINK_POINTS * prior) / (trials + SHRINK_POINTS); the
# prior terms SHRINK_POINTS * prior are computed once here (the same doubles every time).
_PRIOR_HITS: Final = tuple(
    SHRINK_POINTS * prior
    for prior in (
        PRIOR_SERVE_WON,
        PRIOR_FIRST_IN,
        PRIOR_FIRST_WON,
        PRIOR_SECOND_WON,
        PRIOR_ACE,
        PRIOR_DF,
    )
)


def _player_serve(c: PlayerServeCounts) -> tuple[float, ...]:
    """One player's serve shares, shrunk (inlined: 14 of them per token)."""
    won, first_in, first_won, second_won, aces, dfs = _PRIOR_HITS
    detail = c.detail_points + SHRINK_POINTS
    return (
        c.points / 100.0,
        (c.won + won) / (c.points + SHRINK_POINTS),
        (c.first_in + first_in) / detail,
        (c.first_won + first_won) / (c.first_in + SHRINK_POINTS),
        (c.second_won + second_won) / (c.second_points + SHRINK_POINTS),
        (c.aces + aces) / detail,
        (c.double_faults + dfs) / detail,
    )


def _serve_values(c: MatchCounters) -> list[float]:
    last = _LAST_POINT_P1[c.last_winner]
    played = c.points_played
    return [
        *_player_serve(c.p1),
        *_player_serve(c.p2),
        float(c.p1.detail_points + c.p2.detail_points > 0),
        c.p1_points_won / played if played else 0.5,
        c.p1_recent_share,
        last,
        max(-1.0, min(1.0, c.streak / 10.0)),
    ]


_BOUNDARY_NAMES: Final = ("new_game", "changeover", "set_break")


def _boundary_values(s: ScoreInputs) -> tuple[float, float, float]:
    new_game = s.p1_points == 0 and s.p2_points == 0
    games = s.p1_games + s.p2_games
    return (
        float(new_game),
        float(new_game and games % 2 == 1),
        float(new_game and games == 0 and s.p1_sets + s.p2_sets > 0),
    )


_MTO_NAMES: Final = ("mto_flag", "pts_since_mto", "exp_decay_mto")
_NO_MTO: Final = (0.0, 1.0, 0.0)


def _mto_values(pts_since_mto: int | None) -> tuple[float, float, float]:
    if pts_since_mto is None:
        return _NO_MTO
    if pts_since_mto < 0:
        raise ValueError(f"pts_since_mto: must be >= 0, got {pts_since_mto!r}")
    capped = min(pts_since_mto, PTS_SINCE_MTO_CAP)
    return (1.0, capped / PTS_SINCE_MTO_CAP, math.exp(-capped / MTO_DECAY_POINTS))


_FAIR_NAMES: Final = ("fair_prob", "fair_delta", "fair_leverage")


def _fair_values(
    fair_prob: float, prev_fair_prob: float | None, if_wins: float, if_loses: float
) -> tuple[float, float, float]:
    fair = _check_prob("fair_prob", fair_prob)
    prev = fair if prev_fair_prob is None else _check_prob("prev_fair_prob", prev_fair_prob)
    win = _check_prob("fair_if_p1_wins", if_wins)
    lose = _check_prob("fair_if_p1_loses", if_loses)
    return (fair, fair - prev, win - lose)


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


_BOOK_NAMES: Final = (
    "back_prob",
    "lay_prob",
    "spread_ticks",
    "back_size",
    "lay_size",
    "back_prob_50",
    "lay_prob_50",
    "back_depth",
    "lay_depth",
    "imbalance",
    "d_back_size",
    "d_lay_size",
    "d_mid_prob",
    "ltp_prob",
    "d_traded",
    "p2_back_prob",
    "p2_lay_prob",
    "overround",
    "suspended",
    "liq_collapse",
)
_NO_BOOK: Final = (0.0,) * len(_BOOK_NAMES)


def _book_values(book: BookSummary | None, prev: BookSummary | None) -> tuple[float, ...]:
    if book is None:
        return _NO_BOOK
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
    return (
        back,
        _inv(book.lay_price),
        min(max(book.spread_ticks, 0) / 10.0, 1.0),
        back_size,
        lay_size,
        _inv(book.back_price_50),
        _inv(book.lay_price_50),
        back_depth,
        lay_depth,
        (book.back_depth - book.lay_depth) / total if total > 0 else 0.0,
        d_back,
        d_lay,
        d_mid,
        _inv(book.ltp),
        d_traded,
        p2_back,
        _inv(book.p2_lay_price),
        back + p2_back - 1.0 if back and p2_back else 0.0,
        float(book.suspended),
        float(book.liq_collapse),
    )


_RESIDUAL_NAMES: Final = ("residual",)


def _residual_value(prev_market_prob: float | None, prev_fair_prob: float | None) -> float:
    if prev_market_prob is None or prev_fair_prob is None:
        return 0.0
    market = _check_prob("prev_market_prob", prev_market_prob)
    return market - _check_prob("prev_fair_prob", prev_fair_prob)


_LAYOUT: Final = (
    *_SCORE_NAMES,
    *_SERVE_NAMES,
    *_BOUNDARY_NAMES,
    *_MTO_NAMES,
    *_FAIR_NAMES,
    *_BOOK_NAMES,
    *_RESIDUAL_NAMES,
)
if _LAYOUT != TOKEN_COLUMNS:
    raise RuntimeError(
        "feature builder out of step with the schema: "
        f"{sorted(set(_LAYOUT) ^ set(TOKEN_COLUMNS)) or 'same names, another order'}"
    )


def token_row(
    score: ScoreInputs,
    counters: MatchCounters,
    *,
    fair_prob: float,
    prev_fair_prob: float | None,
    fair_if_p1_wins: float,
    fair_if_p1_loses: float,
    pts_since_mto: int | None = None,
    book: BookSummary | None = None,
    prev_book: BookSummary | None = None,
    prev_market_prob: float | None = None,
) -> list[float]:
    """The token's values (Python floats) in TOKEN_COLUMNS order, from plain inputs.

    The hot path: no intermediate input objects, no name look-ups. Arguments are the fields of
    `PointInputs` / `FairInputs` (see the timing contract in engine/features/match.py).
    """
    row = _score_values(score)
    row += _serve_values(counters)
    row += _boundary_values(score)
    row += _mto_values(pts_since_mto)
    row += _fair_values(fair_prob, prev_fair_prob, fair_if_p1_wins, fair_if_p1_loses)
    row += _book_values(book, prev_book)
    row.append(_residual_value(prev_market_prob, prev_fair_prob))
    return row


def _inputs_row(inputs: PointInputs) -> list[float]:
    fair = inputs.fair
    return token_row(
        inputs.score,
        inputs.counters,
        fair_prob=fair.fair_prob,
        prev_fair_prob=fair.prev_fair_prob,
        fair_if_p1_wins=fair.fair_if_p1_wins,
        fair_if_p1_loses=fair.fair_if_p1_loses,
        pts_since_mto=inputs.pts_since_mto,
        book=inputs.book,
        prev_book=inputs.prev_book,
        prev_market_prob=inputs.prev_market_prob,
    )


def token_values(inputs: PointInputs) -> dict[str, float]:
    """The token as a name -> value mapping (for inspection and tests)."""
    return dict(zip(TOKEN_COLUMNS, _inputs_row(inputs), strict=True))


def fill_token(
    row: list[float], variant: str = VARIANT_FULL, out: FloatArray | None = None
) -> FloatArray:
    """Lay a `token_row` out as float32 (TOKEN_DIM,); `out` (if given) is filled in place."""
    target = np.empty(TOKEN_DIM, dtype=np.float32) if out is None else out
    target[:] = row
    return apply_variant(target, variant)


def build_token(
    inputs: PointInputs, variant: str = VARIANT_FULL, out: FloatArray | None = None
) -> FloatArray:
    """Token (TOKEN_DIM,) float32 in schema order; `out` (if given) is filled in place."""
    return fill_token(_inputs_row(inputs), variant, out)


def apply_variant(tokens: FloatArray, variant: str) -> FloatArray:
    """Zero the book columns (last axis) in place for emu_lite; identity for emu_full."""
    if variant == VARIANT_LITE:
        tokens[..., _BOOK_MASK] = 0.0
    elif variant != VARIANT_FULL:
        raise ValueError(f"variant: must be 'full' or 'lite', got {variant!r}")
    return tokens
