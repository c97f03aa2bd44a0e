"""Remove the bookmaker's margin from two-sided decimal odds.

A bookmaker's implied probabilities (1/odds) sum to more than one; how the excess is taken back
matters because the margin is not spread evenly: favourites carry less of it than longshots
(the favourite-longshot bias). Multiplicative normalisation ignores that and under-prices
favourites; the power method and Shin's model both move probability towards the favourite
(DESIGN.md §4). Only the margin-removal maths lives here; the chain inversion is in
`engine.physics.calibration`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, Literal, get_args

DevigMethod = Literal["power", "shin", "multiplicative"]
DEVIG_METHODS: Final[tuple[str, ...]] = get_args(DevigMethod)

_BISECTION_STEPS: Final = 200
_TOLERANCE: Final = 1e-15


def implied_probabilities(odds_p1: float, odds_p2: float) -> tuple[float, float]:
    """1/odds for both players, after checking the odds are finite decimal prices above 1.0."""
    for field, value in (("odds_p1", odds_p1), ("odds_p2", odds_p2)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{field}: expected a number, got {value!r}")
        if not math.isfinite(value) or value <= 1.0:
            raise ValueError(f"{field}: decimal odds must be finite and > 1.0, got {value!r}")
    return 1.0 / odds_p1, 1.0 / odds_p2


def devig_multiplicative(odds_p1: float, odds_p2: float) -> tuple[float, float]:
    """Scale the implied probabilities to sum to one (the margin taken proportionally)."""
    q1, q2 = implied_probabilities(odds_p1, odds_p2)
    total = q1 + q2
    return q1 / total, q2 / total


def _bisect_increasing(func: Callable[[float], float], low: float, high: float) -> float:
    """Root of an increasing scalar function on [low, high] by bisection (robust, ~60 steps)."""
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if func(mid) < 0.0:
            low = mid
        else:
            high = mid
        if high - low <= _TOLERANCE * max(1.0, abs(mid)):
            break
    return 0.5 * (low + high)


def power_exponent(q1: float, q2: float) -> float:
    """The exponent k with q1**k + q2**k = 1 (k > 1 with a margin, < 1 for an over-fair book)."""
    if q1 + q2 == 1.0:
        return 1.0
    # q**k is decreasing in k for q in (0, 1), so 1 - (q1**k + q2**k) increases with k.
    low, high = 1e-6, 1.0
    while q1**high + q2**high > 1.0:
        high *= 2.0
    return _bisect_increasing(lambda k: 1.0 - (q1**k + q2**k), low, high)


def devig_power(odds_p1: float, odds_p2: float) -> tuple[float, float]:
    """Power method: p_i = q_i**k with k chosen so the two sum to one.

    Raising to k > 1 shrinks small probabilities relatively more, so the longshot absorbs more of
    the margin — which is what bookmakers' prices show.
    """
    q1, q2 = implied_probabilities(odds_p1, odds_p2)
    k = power_exponent(q1, q2)
    p1 = q1**k
    return p1, 1.0 - p1


def _shin_probability(q: float, total: float, z: float) -> float:
    return (math.sqrt(z * z + 4.0 * (1.0 - z) * q * q / total) - z) / (2.0 * (1.0 - z))


def shin_insider_share(q1: float, q2: float) -> float:
    """Shin's z: the share of insider money that explains the margin (0 for a fair book)."""
    total = q1 + q2
    if total < 1.0:
        raise ValueError(
            f"odds: implied probabilities sum to {total:.6f} < 1 (no margin); "
            "Shin's model needs a bookmaker margin, use power or multiplicative"
        )
    if total == 1.0:
        return 0.0
    # The sum of Shin probabilities decreases in z from sqrt(total) > 1 at z = 0.
    return _bisect_increasing(
        lambda z: 1.0 - (_shin_probability(q1, total, z) + _shin_probability(q2, total, z)),
        0.0,
        1.0 - 1e-12,
    )


def devig_shin(odds_p1: float, odds_p2: float) -> tuple[float, float]:
    """Shin (1993): prices set against a fraction z of insiders; solve z, then invert each price."""
    q1, q2 = implied_probabilities(odds_p1, odds_p2)
    z = shin_insider_share(q1, q2)
    total = q1 + q2
    p1 = _shin_probability(q1, total, z)
    p2 = _shin_probability(q2, total, z)
    return p1 / (p1 + p2), p2 / (p1 + p2)


def devig(odds_p1: float, odds_p2: float, method: str = "power") -> tuple[float, float]:
    """Fair (p1, p2) from two-sided decimal odds by the named method."""
    if method == "power":
        return devig_power(odds_p1, odds_p2)
    if method == "shin":
        return devig_shin(odds_p1, odds_p2)
    if method == "multiplicative":
        return devig_multiplicative(odds_p1, odds_p2)
    raise ValueError(f"devig: unknown method {method!r}, expected one of {list(DEVIG_METHODS)}")
