"""Public pricing API of the tennis Markov chain ("physics", DESIGN.md §4).

``pa`` is P(player 1 wins a point on player 1's serve), ``pb`` P(player 2 wins a point on player
2's serve). The chain's tables for a (pa, pb, rules) are built once (about a µs) into a cache of
256 slots that lives in numba arrays, so every call below is ONE compiled call that finds (or
builds) the tables and then looks the state up: `p_match` is the hot path, `what_if` adds the
next-point values, `price` every output (its set-score PMF and expected games come from forward
passes). The compiled functions hold the GIL, so the shared cache is safe to use from threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NoReturn

import numpy as np
import numpy.typing as npt

from engine.physics.chain import (
    BAD_PA,
    BAD_PB,
    FloatArray,
    batch_kernel,
    cached_p_match,
    cached_price,
    cached_table,
    cached_what_if,
    encode_rules,
    new_cache,
)
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState, validate

# set_score_pmf keys in the order `price_state` returns them: (K, 0..K-1), then (0..K-1, K)
_PMF_KEYS: Final = {
    best_of: tuple(f"{need}-{b}" for b in range(need)) + tuple(f"{a}-{need}" for a in range(need))
    for best_of, need in ((3, 2), (5, 3))
}

_STORE, _KEYS = new_cache()
# the last rules seen and their encoding, replaced as one tuple (rules objects are usually reused)
_rules_memo: list[tuple[MatchRules | None, tuple[int, int, int, int]]] = [(None, (0, 0, 0, 0))]


def _codes(rules: MatchRules) -> tuple[int, int, int, int]:
    memo = _rules_memo[0]
    if rules is memo[0]:
        return memo[1]
    codes = encode_rules(rules)
    _rules_memo[0] = (rules, codes)
    return codes


def _refuse(code: float, pa: float, pb: float, rules: MatchRules, state: MatchState) -> NoReturn:
    """Raise the ValueError that a negative or NaN result of the compiled calls stands for."""
    if code == -BAD_PA:
        raise ValueError(f"pa: must be strictly between 0 and 1, got {pa!r}")
    if code == -BAD_PB:
        raise ValueError(f"pb: must be strictly between 0 and 1, got {pb!r}")
    validate(state, rules)  # names the bad field
    raise ValueError(f"state: {state!r} is not a legal state")


@dataclass(frozen=True, slots=True)
class Pricing:
    """Everything the chain says about one state, from player 1's point of view.

    expected_games_diff: E[games won by player 1 − games won by player 2] over the current set's
    games so far plus all games still to be played (a tiebreak counts as one game). Games of sets
    already completed are not in MatchState, so they are not counted.
    set_score_pmf: P(the match ends with this set score), keyed "sets1-sets2", every final score of
    the format present (zero where it can no longer happen).
    """

    p_match: float
    p_set: float
    p_game: float
    if_point_won: float
    if_point_lost: float
    expected_games_diff: float
    set_score_pmf: dict[str, float]


def tables_for(pa: float, pb: float, rules: MatchRules) -> FloatArray:
    """A copy of the chain tables for (pa, pb, rules) (layout in `engine.physics.chain`)."""
    slot = cached_table(_STORE, _KEYS, pa, pb, *_codes(rules))
    if slot < 0:
        _refuse(slot, pa, pb, rules, MatchState())
    table: FloatArray = _STORE[slot].copy()
    return table


def p_match(pa: float, pb: float, rules: MatchRules, state: MatchState) -> float:
    """P(player 1 wins the match) from `state` (the fast path)."""
    (s1, s2), (g1, g2), (i, j) = state.sets, state.games, state.points
    value: float = cached_p_match(
        _STORE, _KEYS, pa, pb, *_codes(rules), s1, s2, g1, g2, i, j, state.server
    )
    if value >= 0.0:  # False for NaN (illegal state) and the negative error codes
        return value
    _refuse(value, pa, pb, rules, state)


def what_if(
    pa: float, pb: float, rules: MatchRules, state: MatchState
) -> tuple[float, float, float]:
    """(p_match, p_match if player 1 wins the next point, … if player 1 loses it): one call."""
    (s1, s2), (g1, g2), (i, j) = state.sets, state.games, state.points
    now, won, lost = cached_what_if(
        _STORE, _KEYS, pa, pb, *_codes(rules), s1, s2, g1, g2, i, j, state.server
    )
    if now >= 0.0:
        return now, won, lost
    _refuse(now, pa, pb, rules, state)


def price(pa: float, pb: float, rules: MatchRules, state: MatchState) -> Pricing:
    """All outputs of the chain for one state (see `Pricing`)."""
    (s1, s2), (g1, g2), (i, j) = state.sets, state.games, state.points
    res: list[float] = cached_price(
        _STORE, _KEYS, pa, pb, *_codes(rules), s1, s2, g1, g2, i, j, state.server
    ).tolist()
    if not res[0] >= 0.0:
        _refuse(res[0], pa, pb, rules, state)
    return Pricing(
        p_match=res[0],
        p_set=res[2],
        p_game=res[1],
        if_point_won=res[3],
        if_point_lost=res[4],
        expected_games_diff=res[5],
        set_score_pmf=dict(zip(_PMF_KEYS[rules.best_of], res[6:], strict=True)),
    )


def _per_row(name: str, values: npt.ArrayLike, n: int) -> FloatArray:
    try:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)))
    except ValueError:
        raise ValueError(f"{name}: expected a number or {n} numbers, one per state") from None


def p_match_batch(
    pa: npt.ArrayLike, pb: npt.ArrayLike, rules: MatchRules, states: npt.ArrayLike
) -> FloatArray:
    """P(player 1 wins the match) for many states.

    `states` is (n, 7) ints — sets1, sets2, games1, games2, points1, points2, server (see
    `MatchState.as_row`); `pa`, `pb` are length-n arrays or scalars. Tables are rebuilt only when
    (pa, pb) changes from one row to the next. A bad row raises ValueError naming the field and row.
    """
    rows = np.ascontiguousarray(states, dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 7:
        raise ValueError(f"states: expected shape (n, 7), got {rows.shape}")
    n = rows.shape[0]
    a = _per_row("pa", pa, n)
    b = _per_row("pb", pb, n)
    out = np.empty(n, dtype=np.float64)
    bad_row, code = batch_kernel(a, b, rows, *encode_rules(rules), out)
    if bad_row >= 0:
        if code == BAD_PA:
            raise ValueError(
                f"pa: row {bad_row}: must be strictly between 0 and 1, got {a[bad_row]}"
            )
        if code == BAD_PB:
            raise ValueError(
                f"pb: row {bad_row}: must be strictly between 0 and 1, got {b[bad_row]}"
            )
        s = [int(v) for v in rows[bad_row]]
        state = MatchState(sets=(s[0], s[1]), games=(s[2], s[3]), points=(s[4], s[5]), server=s[6])
        try:
            validate(state, rules)
        except ValueError as exc:
            raise ValueError(f"{exc} (states row {bad_row})") from None
        raise ValueError(f"states: row {bad_row} is not a legal state")
    return out
