"""The Betfair Exchange price ladder: 350 valid decimal odds from 1.01 to 1000.

Prices are handled as integer hundredths ("cents") internally so that ladder look-ups never
depend on float rounding. Tick indices run 0 (1.01) … 349 (1000).
"""

from __future__ import annotations

import bisect
import math
from typing import Final

# (upper bound of band in cents, increment in cents), bands start where the previous one ended.
_BANDS: Final = (
    (200, 1),
    (300, 2),
    (400, 5),
    (600, 10),
    (1000, 20),
    (2000, 50),
    (3000, 100),
    (5000, 200),
    (10000, 500),
    (100000, 1000),
)


def _build_ladder() -> tuple[int, ...]:
    cents = [101]
    for upper, step in _BANDS:
        while cents[-1] < upper:
            cents.append(cents[-1] + step)
    return tuple(cents)


LADDER_CENTS: Final[tuple[int, ...]] = _build_ladder()
LADDER: Final[tuple[float, ...]] = tuple(c / 100.0 for c in LADDER_CENTS)
N_TICKS: Final = len(LADDER_CENTS)
MIN_PRICE: Final = LADDER[0]
MAX_PRICE: Final = LADDER[-1]
_INDEX_BY_CENTS: Final[dict[int, int]] = {c: i for i, c in enumerate(LADDER_CENTS)}

assert N_TICKS == 350, N_TICKS


def to_cents(price: float) -> int:
    """Decimal odds to integer hundredths (1.5 -> 150)."""
    return round(price * 100.0)


def is_on_ladder(price: float) -> bool:
    """True when `price` is exactly a Betfair tick (to within float representation)."""
    cents = to_cents(price)
    return abs(price * 100.0 - cents) < 1e-6 and cents in _INDEX_BY_CENTS


def tick_index(price: float) -> int:
    """Index of an on-ladder price; ValueError for a price that is not a tick."""
    cents = to_cents(price)
    index = _INDEX_BY_CENTS.get(cents)
    if index is None or abs(price * 100.0 - cents) > 1e-6:
        raise ValueError(f"price: {price!r} is not on the Betfair tick ladder")
    return index


def tick_index_or_none(price: float) -> int | None:
    """Index of an on-ladder price, None otherwise (hot-path variant without exceptions)."""
    return _INDEX_BY_CENTS.get(round(price * 100.0))


def price_at(index: int) -> float:
    """The price at a tick index (0 … 349)."""
    if not 0 <= index < N_TICKS:
        raise ValueError(f"tick index: {index} outside 0..{N_TICKS - 1}")
    return LADDER[index]


def round_to_tick(price: float, direction: str = "nearest") -> float:
    """Round odds onto the ladder: 'down' (shorter odds), 'up' (longer odds) or 'nearest'.

    A backer's minimum acceptable odds round up and a layer's maximum round down, so an order never
    accepts a worse price than the one its edge was computed at.
    """
    if direction not in ("down", "up", "nearest"):
        raise ValueError(f"direction: {direction!r} is not one of 'down', 'up', 'nearest'")
    if math.isnan(price) or price <= 1.0:
        raise ValueError(f"price: {price!r} must be a number above 1.0")
    cents_exact = price * 100.0
    pos = bisect.bisect_left(LADDER_CENTS, cents_exact - 1e-9)
    if pos < N_TICKS and abs(LADDER_CENTS[pos] - cents_exact) < 1e-6:
        return LADDER[pos]
    if pos == 0:
        return LADDER[0]
    if pos >= N_TICKS:
        return LADDER[-1]
    below, above = LADDER_CENTS[pos - 1], LADDER_CENTS[pos]
    if direction == "down":
        return below / 100.0
    if direction == "up":
        return above / 100.0
    return (below if cents_exact - below <= above - cents_exact else above) / 100.0


def ticks_between(price_a: float, price_b: float) -> int:
    """Signed number of ticks from price_a to price_b (both on the ladder)."""
    return tick_index(price_b) - tick_index(price_a)


def shift_ticks(price: float, ticks: int) -> float:
    """The price `ticks` steps away, clamped to the ladder ends."""
    index = min(max(tick_index(price) + ticks, 0), N_TICKS - 1)
    return LADDER[index]
