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


def summarise(
    book: MarketBook,
    p1: RunnerBook,
    p2: RunnerBook | None,
    *,
    stake: float,
    depth_history: list[float],
) -> BookSummary:
    """Player 1's side of the book (and player 2's best prices) as a `BookSummary`; appends this
    point's top-3 depth to `depth_history` (the match's per-point depths)."""
    backs = p1.back_levels(LADDER_LEVELS)
    lays = p1.lay_levels(LADDER_LEVELS)
    back_price = backs[0][0] if backs else None
    lay_price = lays[0][0] if lays else None
    back_depth = sum(size for _price, size in backs[:DEPTH_LEVELS])
    lay_depth = sum(size for _price, size in lays[:DEPTH_LEVELS])
    depth_history.append(back_depth + lay_depth)
    p2_back = p2.best_back() if p2 is not None else None
    p2_lay = p2.best_lay() if p2 is not None else None
    return BookSummary(
        back_price=back_price,
        lay_price=lay_price,
        back_size=backs[0][1] if backs else 0.0,
        lay_size=lays[0][1] if lays else 0.0,
        back_price_50=price_for_stake(backs, stake),
        lay_price_50=price_for_stake(lays, stake),
        back_depth=back_depth,
        lay_depth=lay_depth,
        ltp=p1.ltp,
        traded=p1.traded_total(),
        p2_back_price=p2_back[0] if p2_back is not None else None,
        p2_lay_price=p2_lay[0] if p2_lay is not None else None,
        spread_ticks=_spread_ticks(back_price, lay_price),
        suspended=book.status == "SUSPENDED",
        liq_collapse=is_collapse(back_depth + lay_depth, depth_history),
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
