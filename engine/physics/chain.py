"""The compiled point -> game -> tiebreak -> set -> match chain (numba, DESIGN.md §4).

All kernels live in this one module on purpose: numba's on-disk cache (``cache=True``) only notices
edits to the file that defines a function, not to the functions and constants it calls in other
files, so a kernel split across modules could keep running stale machine code after an upgrade.

Sections: table layout and building; state look-ups; forward (probability-mass) passes; batches.

Tables
------
Everything is computed once per serve-probability pair and match format into one flat float64
array, so that pricing any in-play state afterwards is a handful of table look-ups (the hot path of
DESIGN.md §3). All values are P(player 1 wins …), indexed by the server of the next point/game.

Layout (offsets below), index order ``[server-1][p1 count][p2 count]``:

- ``GAME``: a service game from points (i, j), i, j in 0..5 (deuce/advantage already normalised to
  3-3 / 4-3 / 3-4; 5-x cells hold finished games).
- ``TB7`` / ``TB10``: a 7- or 10-point tiebreak from (i, j), indexed by who served the tiebreak's
  FIRST point (serve changes after point 1, then every two points). Ties at target-1 or beyond use
  the closed form a / (a + b): the next two points are served one each.
- ``SET_N`` / ``SET_D``: a normal set and the deciding set from games (g1, g2) at the start of a
  game served by ``server``; finished cells hold 0/1. Advantage sets are closed-form from 5-5 on.
- ``MATCH``: P(player 1 wins the match) at the start of a set with sets (s1, s2); rows/cols up to 3.
  Who serves first in a set does not change set or match probability (Newton & Keller 2005; checked
  by the tests), so set states need no server index.
- ``PARAMS``: pa, pb and the encoded rules, so a table is self-describing for the look-ups, and
  the fresh-set outcomes that the forward passes fill on first use.

Look-ups
--------
A state is (s1, s2, g1, g2, i, j, server) as in `MatchState.as_row`. Long deuces, long tiebreaks and
long advantage sets are folded onto their equivalent table cells here (same Markov state, same
difference, same server of the next point), so the tables stay small.

P(match) = M(lose set) + (M(win set) - M(lose set)) * P(win current set): sets after the current
one do not depend on who serves first in them (Newton & Keller 2005), so the current set's outcome
is all the match level needs.

Forward passes
--------------
The set-score PMF and the expected games difference depend on who serves first in each later
set (games counts do, even though win probabilities do not), so these passes carry the server: the
player who serves the next game after a set ends serves first in the next set, and a tiebreak
counts as one game served first by the player whose turn it was.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from engine.physics._jit import njit_cached
from engine.physics.rules import MatchRules

FloatArray = npt.NDArray[np.float64]

GAME_DIM: Final = 6
TB7_DIM: Final = 9
TB10_DIM: Final = 12
SET_N_DIM: Final = 8
SET_D_DIM: Final = 14
MATCH_DIM: Final = 4

GAME: Final = 0
TB7: Final = GAME + 2 * GAME_DIM * GAME_DIM
TB10: Final = TB7 + 2 * TB7_DIM * TB7_DIM
SET_N: Final = TB10 + 2 * TB10_DIM * TB10_DIM
SET_D: Final = SET_N + 2 * SET_N_DIM * SET_N_DIM
MATCH: Final = SET_D + 2 * SET_D_DIM * SET_D_DIM
PARAMS: Final = MATCH + MATCH_DIM * MATCH_DIM

P_PA: Final = PARAMS
P_PB: Final = PARAMS + 1
P_SETS_TO_WIN: Final = PARAMS + 2
P_DEC_TB_AT: Final = PARAMS + 3  # 0: advantage deciding set, else 6 or 12
P_DEC_TARGET: Final = PARAMS + 4  # 7 or 10
P_NO_AD: Final = PARAMS + 5
P_ADV_TIE: Final = PARAMS + 6  # P(player 1 wins an advantage set from an all score, 5-5 on)
P_FRESH_READY: Final = PARAMS + 7  # 1 once `_fresh_sets` has filled the FRESH block
# Outcomes of a set from 0-0, filled lazily by `_fresh_sets` (only `price_state` needs them):
# FRESH_OUT[kind (0 normal, 1 deciding)][first server - 1][winner - 1][next set's first server - 1]
# and FRESH_DIFF[kind][first server - 1] = E[games diff of that set].
FRESH_OUT: Final = PARAMS + 8
FRESH_DIFF: Final = FRESH_OUT + 16
TABLE_SIZE: Final = FRESH_DIFF + 4


def encode_rules(rules: MatchRules) -> tuple[int, int, int, int]:
    """(sets_to_win, deciding-set tiebreak games (0 = none), deciding tiebreak target, no_ad)."""
    at = rules.tiebreak_at(True)
    return (
        rules.sets_to_win,
        0 if at is None else at,
        rules.tiebreak_target(True),
        1 if rules.no_ad else 0,
    )


@njit_cached
def point_prob(pa: float, pb: float, server: int) -> float:
    """P(player 1 wins a point) when `server` serves it."""
    return pa if server == 1 else 1.0 - pb


@njit_cached
def tiebreak_point_server(first: int, played: int) -> int:
    """Who serves point number `played` (0-based) of a tiebreak whose first point `first` served."""
    return first if (played + 1) % 4 < 2 else 3 - first  # points 0, 3, 4, 7, 8, …


@njit_cached
def service_game_loss(q: float, no_ad: int) -> float:
    """P(the server loses a game from 0-0) when winning each point with probability `q`.

    Written from the loser's side so that it stays accurate when holds are all but certain (an
    advantage set between two near-certain holders is decided by these tiny break chances).
    """
    r = 1.0 - q
    if no_ad == 1:  # first to 4 points, at most 7 played
        return r**4 * (1.0 + 4.0 * q + 10.0 * q * q + 20.0 * q**3)
    return r**4 * (1.0 + 4.0 * q + 10.0 * q * q) + 20.0 * q**3 * r**3 * r * r / (q * q + r * r)


@njit_cached
def _fill_game(tab: FloatArray, pa: float, pb: float, no_ad: int) -> None:
    for srv in (1, 2):
        q = point_prob(pa, pb, srv)
        base = GAME + (srv - 1) * GAME_DIM * GAME_DIM
        for i in range(GAME_DIM - 1, -1, -1):
            for j in range(GAME_DIM - 1, -1, -1):
                k = base + i * GAME_DIM + j
                if i >= 4 and (i - j >= 2 or no_ad == 1):
                    tab[k] = 1.0
                elif j >= 4 and (j - i >= 2 or no_ad == 1):
                    tab[k] = 0.0
                elif i == j and i >= 3:
                    if no_ad == 1:
                        tab[k] = q
                    else:
                        tab[k] = q * q / (q * q + (1.0 - q) * (1.0 - q))
                elif i + 1 < GAME_DIM and j + 1 < GAME_DIM:
                    tab[k] = q * tab[k + GAME_DIM] + (1.0 - q) * tab[k + 1]
                else:
                    tab[k] = np.nan


@njit_cached
def _fill_tiebreak(  # noqa: PLR0917
    tab: FloatArray, pa: float, pb: float, offset: int, dim: int, target: int
) -> None:
    a = pa * (1.0 - pb)
    b = (1.0 - pa) * pb
    tie = a / (a + b)
    for first in (1, 2):
        base = offset + (first - 1) * dim * dim
        for i in range(dim - 1, -1, -1):
            for j in range(dim - 1, -1, -1):
                k = base + i * dim + j
                if i >= target and i - j >= 2:
                    tab[k] = 1.0
                elif j >= target and j - i >= 2:
                    tab[k] = 0.0
                elif i == j and i >= target - 1:
                    tab[k] = tie
                elif i + 1 < dim and j + 1 < dim:
                    q = point_prob(pa, pb, tiebreak_point_server(first, i + j))
                    tab[k] = q * tab[k + dim] + (1.0 - q) * tab[k + 1]
                else:
                    tab[k] = np.nan


@njit_cached
def _fill_set(  # noqa: PLR0917
    tab: FloatArray, offset: int, dim: int, tb_at: int, tb_offset: int, tb_dim: int
) -> None:
    """Backward DP over games; `tb_at` 0 means an advantage set (closed form from 5-5).

    Only games up to the tiebreak score + 1 (7 for advantage sets) are reachable after the look-ups
    fold long sets, so larger cells of the `dim` grid are left unset.
    """
    limit = min(dim, (tb_at if tb_at > 0 else 6) + 2)
    adv_tie = tab[P_ADV_TIE]
    for g1 in range(limit - 1, -1, -1):
        for g2 in range(limit - 1, -1, -1):
            k = g1 * dim + g2
            for srv in (1, 2):
                base = offset + (srv - 1) * dim * dim
                other = offset + (2 - srv) * dim * dim
                h = tab[GAME + (srv - 1) * GAME_DIM * GAME_DIM]
                if tb_at > 0 and g1 == tb_at + 1 and g2 == tb_at:
                    tab[base + k] = 1.0
                elif tb_at > 0 and g2 == tb_at + 1 and g1 == tb_at:
                    tab[base + k] = 0.0
                elif g1 >= 6 and g1 - g2 >= 2:
                    tab[base + k] = 1.0
                elif g2 >= 6 and g2 - g1 >= 2:
                    tab[base + k] = 0.0
                elif tb_at > 0 and g1 == tb_at and g2 == tb_at:
                    tab[base + k] = tab[tb_offset + (srv - 1) * tb_dim * tb_dim]
                elif tb_at == 0 and g1 == g2 and g1 >= 5:
                    tab[base + k] = adv_tie
                elif g1 + 1 < limit and g2 + 1 < limit:
                    tab[base + k] = h * tab[other + k + dim] + (1.0 - h) * tab[other + k + 1]
                else:
                    tab[base + k] = np.nan


@njit_cached
def fill_tables(  # noqa: PLR0917
    tab: FloatArray,
    pa: float,
    pb: float,
    sets_to_win: int,
    dec_tb_at: int,
    dec_target: int,
    no_ad: int,
) -> None:
    """Fill `tab` (length TABLE_SIZE) for one (pa, pb, rules); see the module docstring."""
    _fill_game(tab, pa, pb, no_ad)
    broken1 = service_game_loss(pa, no_ad)  # player 1 loses own service game
    broken2 = service_game_loss(pb, no_ad)
    both1 = (1.0 - broken1) * broken2  # player 1 takes both games of a service pair
    both2 = broken1 * (1.0 - broken2)
    tab[P_ADV_TIE] = both1 / (both1 + both2)
    _fill_tiebreak(tab, pa, pb, TB7, TB7_DIM, 7)
    if dec_tb_at > 0 and dec_target == 10:
        _fill_tiebreak(tab, pa, pb, TB10, TB10_DIM, 10)
    else:
        tab[TB10 : TB10 + 2 * TB10_DIM * TB10_DIM] = np.nan
    _fill_set(tab, SET_N, SET_N_DIM, 6, TB7, TB7_DIM)
    dec_tb_offset = TB10 if dec_target == 10 else TB7
    dec_tb_dim = TB10_DIM if dec_target == 10 else TB7_DIM
    _fill_set(tab, SET_D, SET_D_DIM, dec_tb_at, dec_tb_offset, dec_tb_dim)
    set_n = tab[SET_N]
    set_d = tab[SET_D]
    for s1 in range(MATCH_DIM - 1, -1, -1):
        for s2 in range(MATCH_DIM - 1, -1, -1):
            k = MATCH + s1 * MATCH_DIM + s2
            if s1 >= sets_to_win:
                tab[k] = 1.0
            elif s2 >= sets_to_win:
                tab[k] = 0.0
            else:
                ps = set_d if s1 == s2 == sets_to_win - 1 else set_n
                tab[k] = ps * tab[k + MATCH_DIM] + (1.0 - ps) * tab[k + 1]
    tab[P_PA] = pa
    tab[P_PB] = pb
    tab[P_SETS_TO_WIN] = sets_to_win
    tab[P_DEC_TB_AT] = dec_tb_at
    tab[P_DEC_TARGET] = dec_target
    tab[P_NO_AD] = no_ad
    tab[P_FRESH_READY] = 0.0


@njit_cached
def build_tables(  # noqa: PLR0917
    pa: float, pb: float, sets_to_win: int, dec_tb_at: int, dec_target: int, no_ad: int
) -> FloatArray:
    tab = np.empty(TABLE_SIZE, dtype=np.float64)
    fill_tables(tab, pa, pb, sets_to_win, dec_tb_at, dec_target, no_ad)
    return tab


# ------------------------------ state look-ups ----------------------------------------------------

OK = 0
BAD_SERVER = 1
BAD_SETS = 2
BAD_GAMES = 3
BAD_POINTS = 4


@njit_cached
def set_layout(tab: FloatArray, s1: int, s2: int) -> tuple[int, int, int, int, int, int]:
    """(set table offset, dim, tiebreak games or 0, tiebreak target, tiebreak offset, tb dim)."""
    last = int(tab[P_SETS_TO_WIN]) - 1
    if s1 == last and s2 == last:
        target = int(tab[P_DEC_TARGET])
        if target == 10:
            return SET_D, SET_D_DIM, int(tab[P_DEC_TB_AT]), 10, TB10, TB10_DIM
        return SET_D, SET_D_DIM, int(tab[P_DEC_TB_AT]), 7, TB7, TB7_DIM
    return SET_N, SET_N_DIM, 6, 7, TB7, TB7_DIM


@njit_cached
def state_error(  # noqa: PLR0917
    tab: FloatArray, s1: int, s2: int, g1: int, g2: int, i: int, j: int, srv: int
) -> int:
    """0 when the state is legal, else the code of the first bad field (mirrors state.validate)."""
    if srv < 1 or srv > 2:
        return BAD_SERVER
    need = int(tab[P_SETS_TO_WIN])
    if s1 < 0 or s2 < 0 or s1 >= need or s2 >= need:
        return BAD_SETS
    if g1 < 0 or g2 < 0:
        return BAD_GAMES
    _off, _dim, tb_at, target, _tbo, _tbd = set_layout(tab, s1, s2)
    top = max(g1, g2)
    if top > 5 and (abs(g1 - g2) > 1 or (tb_at > 0 and top > tb_at)):
        return BAD_GAMES
    if i < 0 or j < 0:
        return BAD_POINTS
    if tb_at > 0 and g1 == tb_at and g2 == tb_at:
        if max(i, j) >= target and abs(i - j) > 1:
            return BAD_POINTS
    elif tab[P_NO_AD] > 0.5:
        if max(i, j) > 3:
            return BAD_POINTS
    elif max(i, j) > 3 and abs(i - j) > 1:
        return BAD_POINTS
    return OK


@njit_cached
def game_prob(tab: FloatArray, srv: int, i: int, j: int) -> float:
    """P(player 1 wins the game at points (i, j), `srv` serving); finished games give 0/1."""
    m = min(i, j)
    if m > 3:
        i -= m - 3
        j -= m - 3
    i = min(i, GAME_DIM - 1)
    j = min(j, GAME_DIM - 1)
    return float(tab[GAME + (srv - 1) * GAME_DIM * GAME_DIM + i * GAME_DIM + j])


@njit_cached
def tiebreak_prob(  # noqa: PLR0917
    tab: FloatArray, tb_off: int, tb_dim: int, target: int, next_srv: int, i: int, j: int
) -> float:
    """P(player 1 wins the tiebreak at (i, j) with `next_srv` serving the next point)."""
    m = min(i, j)
    if m > target - 1:
        i -= m - (target - 1)
        j -= m - (target - 1)
    i = min(i, tb_dim - 1)
    j = min(j, tb_dim - 1)
    first = tiebreak_point_server(next_srv, i + j)  # the rotation is its own inverse
    return float(tab[tb_off + (first - 1) * tb_dim * tb_dim + i * tb_dim + j])


@njit_cached
def set_prob(  # noqa: PLR0917
    tab: FloatArray, off: int, dim: int, tb_at: int, g1: int, g2: int, srv: int
) -> float:
    """P(player 1 wins the set at games (g1, g2), `srv` serving the next game)."""
    if tb_at == 0:
        m = min(g1, g2)
        if m > 5:
            g1 -= m - 5
            g2 -= m - 5
    return float(tab[off + (srv - 1) * dim * dim + g1 * dim + g2])


@njit_cached
def game_and_set(  # noqa: PLR0917
    tab: FloatArray, s1: int, s2: int, g1: int, g2: int, i: int, j: int, srv: int
) -> tuple[float, float]:
    """(P(player 1 wins the current game or tiebreak), P(player 1 wins the current set))."""
    off, dim, tb_at, target, tb_off, tb_dim = set_layout(tab, s1, s2)
    if tb_at > 0 and g1 == tb_at and g2 == tb_at:
        pt = tiebreak_prob(tab, tb_off, tb_dim, target, srv, i, j)
        return pt, pt
    pg = game_prob(tab, srv, i, j)
    won = set_prob(tab, off, dim, tb_at, g1 + 1, g2, 3 - srv)
    lost = set_prob(tab, off, dim, tb_at, g1, g2 + 1, 3 - srv)
    return pg, pg * won + (1.0 - pg) * lost


@njit_cached
def match_prob(tab: FloatArray, s1: int, s2: int, p_set: float) -> float:
    """P(player 1 wins the match) given P(player 1 wins the current set at sets s1-s2)."""
    won = tab[MATCH + (s1 + 1) * MATCH_DIM + s2]
    lost = tab[MATCH + s1 * MATCH_DIM + s2 + 1]
    return float(lost + (won - lost) * p_set)


@njit_cached
def p_match_state(  # noqa: PLR0917
    tab: FloatArray, s1: int, s2: int, g1: int, g2: int, i: int, j: int, srv: int
) -> float:
    """P(player 1 wins the match) from a state; NaN when the state is illegal."""
    if state_error(tab, s1, s2, g1, g2, i, j, srv) != OK:
        return np.nan
    _pg, ps = game_and_set(tab, s1, s2, g1, g2, i, j, srv)
    return match_prob(tab, s1, s2, ps)


@njit_cached
def after_point(  # noqa: PLR0917
    tab: FloatArray, s1: int, s2: int, g1: int, g2: int, i: int, j: int, srv: int, p1_wins: bool
) -> float:
    """P(player 1 wins the match) once the next point is played and won (or lost) by player 1."""
    _off, _dim, tb_at, _target, _tbo, _tbd = set_layout(tab, s1, s2)
    i2 = i + 1 if p1_wins else i
    j2 = j if p1_wins else j + 1
    next_srv = srv
    if tb_at > 0 and g1 == tb_at and g2 == tb_at:
        first = tiebreak_point_server(srv, i + j)  # the rotation is its own inverse
        next_srv = tiebreak_point_server(first, i + j + 1)
    _pg, ps = game_and_set(tab, s1, s2, g1, g2, i2, j2, next_srv)
    return match_prob(tab, s1, s2, ps)


@njit_cached
def what_if_state(  # noqa: PLR0917
    tab: FloatArray, s1: int, s2: int, g1: int, g2: int, i: int, j: int, srv: int
) -> tuple[float, float, float]:
    """(P(match) now, if player 1 wins the next point, if player 1 loses it); NaNs when illegal."""
    if state_error(tab, s1, s2, g1, g2, i, j, srv) != OK:
        return np.nan, np.nan, np.nan
    _pg, ps = game_and_set(tab, s1, s2, g1, g2, i, j, srv)
    return (
        match_prob(tab, s1, s2, ps),
        after_point(tab, s1, s2, g1, g2, i, j, srv, True),
        after_point(tab, s1, s2, g1, g2, i, j, srv, False),
    )


# ------------------------------ forward passes ----------------------------------------------------

# out[winner - 1, first server of the next set - 1]: probability the set ends that way.


@njit_cached
def forward_set(  # noqa: PLR0917
    tab: FloatArray,
    dim: int,
    tb_at: int,
    tb_off: int,
    tb_dim: int,
    mass: FloatArray,
    out: FloatArray,
) -> float:
    """Push `mass[server-1, g1, g2]` (start of a game) to the set's end; returns E[final g1 - g2].

    Adds the end-of-set probabilities into `out` (2 x 2, see above). `mass` is consumed.
    """
    adv_tie = tab[P_ADV_TIE]
    diff = 0.0
    for total in range(0, 2 * dim - 1):
        lo = max(0, total - dim + 1)
        hi = min(total, dim - 1)
        for g1 in range(lo, hi + 1):
            g2 = total - g1
            for srv in (1, 2):
                m = mass[srv - 1, g1, g2]
                if m == 0.0:
                    continue
                if (g1 >= 6 and g1 - g2 >= 2) or (tb_at > 0 and g1 == tb_at + 1 and g2 == tb_at):
                    out[0, srv - 1] += m
                    diff += m * (g1 - g2)
                elif (g2 >= 6 and g2 - g1 >= 2) or (tb_at > 0 and g2 == tb_at + 1 and g1 == tb_at):
                    out[1, srv - 1] += m
                    diff += m * (g1 - g2)
                elif tb_at > 0 and g1 == tb_at and g2 == tb_at:
                    pt = tab[tb_off + (srv - 1) * tb_dim * tb_dim]
                    out[0, 2 - srv] += m * pt
                    out[1, 2 - srv] += m * (1.0 - pt)
                    diff += m * (2.0 * pt - 1.0)
                elif tb_at == 0 and g1 == g2 and g1 >= 5:
                    # from an all score the set ends after an even number of games, lead two
                    out[0, srv - 1] += m * adv_tie
                    out[1, srv - 1] += m * (1.0 - adv_tie)
                    diff += m * 2.0 * (2.0 * adv_tie - 1.0)
                else:
                    h = tab[GAME + (srv - 1) * GAME_DIM * GAME_DIM]
                    mass[2 - srv, g1 + 1, g2] += m * h
                    mass[2 - srv, g1, g2 + 1] += m * (1.0 - h)
                mass[srv - 1, g1, g2] = 0.0
    return diff


@njit_cached
def _fresh_sets(tab: FloatArray) -> None:
    """Fill the FRESH block once per table: each set type from 0-0, each first server."""
    need = int(tab[P_SETS_TO_WIN])
    for kind in range(2):
        s = need - 1 if kind == 1 else 0
        _off, dim, tb_at, _target, tb_off, tb_dim = set_layout(tab, s, s)
        for first in (1, 2):
            mass = np.zeros((2, dim + 1, dim + 1))
            mass[first - 1, 0, 0] = 1.0
            out = np.zeros((2, 2))
            diff = forward_set(tab, dim, tb_at, tb_off, tb_dim, mass, out)
            base = FRESH_OUT + (kind * 2 + first - 1) * 4
            for w in range(2):
                for f in range(2):
                    tab[base + w * 2 + f] = out[w, f]
            tab[FRESH_DIFF + kind * 2 + first - 1] = diff
    tab[P_FRESH_READY] = 1.0


@njit_cached
def price_state(  # noqa: PLR0917
    tab: FloatArray, s1: int, s2: int, g1: int, g2: int, i: int, j: int, srv: int
) -> FloatArray:
    """Every output for a legal state, as one array (NaN in slot 0 when the state is illegal):

    [p_match, p_game, p_set, if_point_won, if_point_lost, E[games diff],
     pmf over (K, b) for b < K ..., pmf over (a, K) for a < K ...] with K sets to win.

    E[games diff] counts the current set's games so far plus everything still to be played (the
    current set's final difference comes from its forward pass, started at the games so far).
    """
    need = int(tab[P_SETS_TO_WIN])
    res = np.zeros(6 + 2 * need)
    if state_error(tab, s1, s2, g1, g2, i, j, srv) != OK:
        res[0] = np.nan
        return res
    if tab[P_FRESH_READY] < 0.5:
        _fresh_sets(tab)
    _off, dim, tb_at, target, tb_off, tb_dim = set_layout(tab, s1, s2)
    pg, ps = game_and_set(tab, s1, s2, g1, g2, i, j, srv)
    res[0] = match_prob(tab, s1, s2, ps)
    res[1] = pg
    res[2] = ps
    res[3] = after_point(tab, s1, s2, g1, g2, i, j, srv, True)
    res[4] = after_point(tab, s1, s2, g1, g2, i, j, srv, False)
    current = np.zeros((2, 2))
    if tb_at > 0 and g1 == tb_at and g2 == tb_at:
        first = tiebreak_point_server(srv, i + j)  # the rotation is its own inverse
        pt = tiebreak_prob(tab, tb_off, tb_dim, target, srv, i, j)
        current[0, 2 - first] = pt
        current[1, 2 - first] = 1.0 - pt
        diff = (g1 - g2) + 2.0 * pt - 1.0
    else:
        m = min(g1, g2)
        shift = m - 5 if (tb_at == 0 and m > 5) else 0
        n1 = g1 - shift
        n2 = g2 - shift
        mass = np.zeros((2, dim + 1, dim + 1))
        mass[2 - srv, n1 + 1, n2] = pg
        mass[2 - srv, n1, n2 + 1] = 1.0 - pg
        diff = forward_set(tab, dim, tb_at, tb_off, tb_dim, mass, current)
    sets = np.zeros((need + 1, need + 1, 2))
    for f in range(2):
        sets[s1 + 1, s2, f] += current[0, f]
        sets[s1, s2 + 1, f] += current[1, f]
    for total in range(s1 + s2 + 1, 2 * need - 1):
        for a in range(max(0, total - need + 1), min(total, need - 1) + 1):
            b = total - a
            kind = 1 if a == need - 1 and b == need - 1 else 0
            for f in range(2):
                m = sets[a, b, f]
                if m == 0.0:
                    continue
                diff += m * tab[FRESH_DIFF + kind * 2 + f]
                base = FRESH_OUT + (kind * 2 + f) * 4
                for nf in range(2):
                    sets[a + 1, b, nf] += m * tab[base + nf]
                    sets[a, b + 1, nf] += m * tab[base + 2 + nf]
    res[5] = diff
    for b in range(need):
        res[6 + b] = sets[need, b, 0] + sets[need, b, 1]
    for a in range(need):
        res[6 + need + a] = sets[a, need, 0] + sets[a, need, 1]
    return res


# ------------------------------ batches -----------------------------------------------------------

BAD_PA: Final = 10
BAD_PB: Final = 11


@njit_cached
def batch_kernel(  # noqa: PLR0917
    pa: FloatArray,
    pb: FloatArray,
    states: npt.NDArray[np.int64],
    sets_to_win: int,
    dec_tb_at: int,
    dec_target: int,
    no_ad: int,
    out: FloatArray,
) -> tuple[int, int]:
    """Fill `out`; returns (-1, OK) or (first bad row, error code).

    Tables are rebuilt only when (pa, pb) differs from the previous row's.
    """
    tab = np.empty(TABLE_SIZE)
    last_a = -1.0
    last_b = -1.0
    for r in range(states.shape[0]):
        a = pa[r]
        b = pb[r]
        if not 0.0 < a < 1.0:
            return r, BAD_PA
        if not 0.0 < b < 1.0:
            return r, BAD_PB
        if a != last_a or b != last_b:
            fill_tables(tab, a, b, sets_to_win, dec_tb_at, dec_target, no_ad)
            last_a = a
            last_b = b
        s = states[r]
        code = state_error(tab, s[0], s[1], s[2], s[3], s[4], s[5], s[6])
        if code != OK:
            return r, code
        out[r] = p_match_state(tab, s[0], s[1], s[2], s[3], s[4], s[5], s[6])
    return -1, OK


# ------------------------------ table cache -------------------------------------------------------

CACHE_SLOTS: Final = 256


def new_cache() -> tuple[FloatArray, FloatArray]:
    """An empty table cache: (tables, keys), one row per slot; keys are (pa, pb, rules code)."""
    return np.zeros((CACHE_SLOTS, TABLE_SIZE)), np.full((CACHE_SLOTS, 3), np.nan)


@njit_cached
def cached_table(  # noqa: PLR0917
    store: FloatArray,
    keys: FloatArray,
    pa: float,
    pb: float,
    sets_to_win: int,
    dec_tb_at: int,
    dec_target: int,
    no_ad: int,
) -> int:
    """Slot of `store` holding the tables for (pa, pb, rules), built there first if absent.

    Direct-mapped: the slot is a hash of the key, and a different key hashing to the same slot
    replaces it. Returns -BAD_PA / -BAD_PB for probabilities outside (0, 1) (NaN included).
    """
    if not 0.0 < pa < 1.0:
        return -BAD_PA
    if not 0.0 < pb < 1.0:
        return -BAD_PB
    code = sets_to_win + 10 * dec_tb_at + 1000 * dec_target + 100000 * no_ad
    mixed = int(pa * 1048576.0) * 2654435761 + int(pb * 1048576.0) * 2246822519 + code
    slot = mixed % CACHE_SLOTS
    if keys[slot, 0] != pa or keys[slot, 1] != pb or keys[slot, 2] != code:
        fill_tables(store[slot], pa, pb, sets_to_win, dec_tb_at, dec_target, no_ad)
        keys[slot, 0] = pa
        keys[slot, 1] = pb
        keys[slot, 2] = code
    return slot


@njit_cached
def cached_p_match(  # noqa: PLR0917
    store: FloatArray,
    keys: FloatArray,
    pa: float,
    pb: float,
    sets_to_win: int,
    dec_tb_at: int,
    dec_target: int,
    no_ad: int,
    s1: int,
    s2: int,
    g1: int,
    g2: int,
    i: int,
    j: int,
    srv: int,
) -> float:
    """P(player 1 wins the match) in one call; -BAD_PA / -BAD_PB, or NaN for an illegal state."""
    slot = cached_table(store, keys, pa, pb, sets_to_win, dec_tb_at, dec_target, no_ad)
    if slot < 0:
        return float(slot)
    return p_match_state(store[slot], s1, s2, g1, g2, i, j, srv)


@njit_cached
def cached_what_if(  # noqa: PLR0917
    store: FloatArray,
    keys: FloatArray,
    pa: float,
    pb: float,
    sets_to_win: int,
    dec_tb_at: int,
    dec_target: int,
    no_ad: int,
    s1: int,
    s2: int,
    g1: int,
    g2: int,
    i: int,
    j: int,
    srv: int,
) -> tuple[float, float, float]:
    """`what_if_state` through the cache; the first value carries the error codes of
    `cached_p_match`."""
    slot = cached_table(store, keys, pa, pb, sets_to_win, dec_tb_at, dec_target, no_ad)
    if slot < 0:
        return float(slot), np.nan, np.nan
    return what_if_state(store[slot], s1, s2, g1, g2, i, j, srv)


@njit_cached
def cached_price(  # noqa: PLR0917
    store: FloatArray,
    keys: FloatArray,
    pa: float,
    pb: float,
    sets_to_win: int,
    dec_tb_at: int,
    dec_target: int,
    no_ad: int,
    s1: int,
    s2: int,
    g1: int,
    g2: int,
    i: int,
    j: int,
    srv: int,
) -> FloatArray:
    """`price_state` through the cache; slot 0 carries the error codes of `cached_p_match`."""
    slot = cached_table(store, keys, pa, pb, sets_to_win, dec_tb_at, dec_target, no_ad)
    if slot < 0:
        res = np.full(6 + 2 * sets_to_win, np.nan)
        res[0] = float(slot)
        return res
    return price_state(store[slot], s1, s2, g1, g2, i, j, srv)
