"""The order book as the emulator features see it, read from the live cache.

Pure functions of a cached `MarketBook`: the engine calls `summarise` when a point ends (the
"current book" of the timing contract in engine/features/match.py), so book changes between points
cost nothing but the cache update and the token always carries the latest book.

The definitions are training's (training/align_market.py and align_labels.py build the same
`BookSummary` from recorded books): the £50 fill price over up to 25 ladder levels, depth on the
best 3 levels, suspended = status SUSPENDED, and liq_collapse from engine/features/liquidity.py,
the one definition training uses too.
"""

from __future__ import annotations

from bisect import insort
from typing import Final

from engine.features.inputs import BookSummary, price_for_stake
from engine.features.liquidity import DEPTH_LEVELS, is_collapse
from engine.market.book import MarketBook, RunnerBook
from engine.market.ticks import tick_index_or_none


def _spread_ticks(back: float | None, lay: float | None) -> int:
    if back is None or lay is None:
        return 0
    low, high = tick_index_or_none(back), tick_index_or_none(lay)
    if low is None or high is None:
        return 0
    return max(0, high - low)


LADDER_LEVELS: Final = 25  # levels read for the stake's fill price


def _fill_price(
    runner: RunnerBook, top: list[tuple[float, float]], back: bool, stake: float
) -> float | None:
    """`price_for_stake` over up to LADDER_LEVELS levels, reading past the top levels only when
    they cannot fill the stake (the fill walks levels best first, so the result is the same)."""
    price = price_for_stake(top, stake)
    if price is not None or len(top) < DEPTH_LEVELS:
        return price
    levels = runner.back_levels(LADDER_LEVELS) if back else runner.lay_levels(LADDER_LEVELS)
    return price_for_stake(levels, stake)


def summarise(
    book: MarketBook,
    p1: RunnerBook,
    p2: RunnerBook | None,
    *,
    stake: float,
    depth_history: list[float],
) -> BookSummary:
    """Player 1's side of the book (and player 2's best prices) as a `BookSummary`; inserts this
    point's top-3 depth into `depth_history` (the match's per-point depths, kept sorted so the
    collapse rule's median costs no sort)."""
    backs = p1.back_levels(DEPTH_LEVELS)
    lays = p1.lay_levels(DEPTH_LEVELS)
    back_price = backs[0][0] if backs else None
    lay_price = lays[0][0] if lays else None
    back_depth = 0.0
    for _price, size in backs:
        back_depth += size
    lay_depth = 0.0
    for _price, size in lays:
        lay_depth += size
    depth = back_depth + lay_depth
    insort(depth_history, depth)
    p2_back = p2.best_back() if p2 is not None else None
    p2_lay = p2.best_lay() if p2 is not None else None
    return BookSummary(
        back_price,
        lay_price,
        backs[0][1] if backs else 0.0,
        lays[0][1] if lays else 0.0,
        _fill_price(p1, backs, True, stake),
        _fill_price(p1, lays, False, stake),
        back_depth,
        lay_depth,
        p1.ltp,
        p1.traded_total(),
        p2_back[0] if p2_back is not None else None,
        p2_lay[0] if p2_lay is not None else None,
        _spread_ticks(back_price, lay_price),
        book.status == "SUSPENDED",
        is_collapse(depth, depth_history),
    )


def mid_odds(runner: RunnerBook) -> float | None:
    """Decimal odds at the mid of the implied probabilities (None for an empty book)."""
    back, lay = runner.best_back(), runner.best_lay()
    if back is not None and lay is not None:
        return 2.0 / (1.0 / back[0] + 1.0 / lay[0])
    if back is not None:
        return back[0]
    if lay is not None:
        return lay[0]
    return None
