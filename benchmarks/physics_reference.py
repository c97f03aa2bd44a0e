"""A plain-Python peer for bench_physics: the textbook memoised recursion, no numba, no tables.

This is how the chain is usually written (Barnett & Clarke style: game, tiebreak, set and match
recursions memoised with functools.cache keyed by the serve probabilities). The benchmark
checks that it agrees with `engine.physics.pricing` before timing both.
"""

from __future__ import annotations

from functools import cache

from engine.physics.rules import MatchRules
from engine.physics.state import MatchState


def _point(pa: float, pb: float, server: int) -> float:
    return pa if server == 1 else 1.0 - pb


@cache
def game(pa: float, pb: float, server: int, i: int, j: int, no_ad: bool) -> float:
    """P(player 1 wins the game from points (i, j))."""
    if i >= 4 and (no_ad or i - j >= 2):
        return 1.0
    if j >= 4 and (no_ad or j - i >= 2):
        return 0.0
    q = _point(pa, pb, server)
    if i >= 3 and i == j:
        return q if no_ad else q * q / (q * q + (1 - q) * (1 - q))
    return q * game(pa, pb, server, i + 1, j, no_ad) + (1 - q) * game(
        pa, pb, server, i, j + 1, no_ad
    )


@cache
def tiebreak(pa: float, pb: float, first: int, i: int, j: int, target: int) -> float:
    """P(player 1 wins the tiebreak from (i, j)); `first` served its first point."""
    if i >= target and i - j >= 2:
        return 1.0
    if j >= target and j - i >= 2:
        return 0.0
    if i == j and i >= target - 1:
        a, b = pa * (1 - pb), (1 - pa) * pb
        return a / (a + b)
    server = first if (i + j + 1) % 4 < 2 else 3 - first
    q = _point(pa, pb, server)
    return q * tiebreak(pa, pb, first, i + 1, j, target) + (1 - q) * tiebreak(
        pa, pb, first, i, j + 1, target
    )


@cache
def set_(
    pa: float, pb: float, server: int, g1: int, g2: int, tb_at: int, target: int, no_ad: bool
) -> float:
    """P(player 1 wins the set from games (g1, g2)); tb_at 0 = advantage set."""
    if (g1 >= 6 and g1 - g2 >= 2) or (tb_at and g1 == tb_at + 1 and g2 == tb_at):
        return 1.0
    if (g2 >= 6 and g2 - g1 >= 2) or (tb_at and g2 == tb_at + 1 and g1 == tb_at):
        return 0.0
    if tb_at and g1 == g2 == tb_at:
        return tiebreak(pa, pb, server, 0, 0, target)
    if not tb_at and g1 == g2 and g1 >= 5:
        h1, h2 = game(pa, pb, 1, 0, 0, no_ad), 1 - game(pa, pb, 2, 0, 0, no_ad)
        a, b = h1 * (1 - h2), (1 - h1) * h2
        return a / (a + b)
    h = game(pa, pb, server, 0, 0, no_ad)
    nxt = 3 - server
    return h * set_(pa, pb, nxt, g1 + 1, g2, tb_at, target, no_ad) + (1 - h) * set_(
        pa, pb, nxt, g1, g2 + 1, tb_at, target, no_ad
    )


def _set_rule(rules: MatchRules, s1: int, s2: int) -> tuple[int, int]:
    deciding = rules.is_deciding_set(s1, s2)
    return rules.tiebreak_at(deciding) or 0, rules.tiebreak_target(deciding)


@cache
def match(pa: float, pb: float, rules: MatchRules, s1: int, s2: int) -> float:
    """P(player 1 wins the match at the start of a set (first server does not matter))."""
    if s1 == rules.sets_to_win:
        return 1.0
    if s2 == rules.sets_to_win:
        return 0.0
    tb_at, target = _set_rule(rules, s1, s2)
    ps = set_(pa, pb, 1, 0, 0, tb_at, target, rules.no_ad)
    return ps * match(pa, pb, rules, s1 + 1, s2) + (1 - ps) * match(pa, pb, rules, s1, s2 + 1)


def p_match(pa: float, pb: float, rules: MatchRules, state: MatchState) -> float:
    """P(player 1 wins the match) from a legal in-play state."""
    (s1, s2), (g1, g2), (i, j) = state.sets, state.games, state.points
    tb_at, target = _set_rule(rules, s1, s2)
    if not tb_at and min(g1, g2) > 5:
        g1, g2 = g1 - (min(g1, g2) - 5), g2 - (min(g1, g2) - 5)
    if tb_at and g1 == g2 == tb_at:
        m = min(i, j)
        if m > target - 1:
            i, j = i - (m - target + 1), j - (m - target + 1)
        first = state.server if (i + j + 1) % 4 < 2 else 3 - state.server
        p_set = tiebreak(pa, pb, first, i, j, target)
    else:
        m = min(i, j)
        if m > 3:
            i, j = i - (m - 3), j - (m - 3)
        pg = game(pa, pb, state.server, i, j, rules.no_ad)
        nxt = 3 - state.server
        won = set_(pa, pb, nxt, g1 + 1, g2, tb_at, target, rules.no_ad)
        lost = set_(pa, pb, nxt, g1, g2 + 1, tb_at, target, rules.no_ad)
        p_set = pg * won + (1 - pg) * lost
    return p_set * match(pa, pb, rules, s1 + 1, s2) + (1 - p_set) * match(pa, pb, rules, s1, s2 + 1)
