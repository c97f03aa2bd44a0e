"""Book snapshots at chosen times, read from a Betfair stream file through the product's own
stream processor and market cache (adapters/betfair + engine/market), so training sees exactly
the books the engine would have held.

"As last seen at time t" means: every message with publish time pt <= t (ms) applied, none later.
A snapshot keeps only plain numbers (the cache's books are mutated in place as the file plays on).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters.betfair.historical import HistoricalReader
from adapters.betfair.processor import StreamProcessor
from engine.features.inputs import price_for_stake
from engine.features.liquidity import DEPTH_LEVELS
from engine.market.book import MarketBook, RunnerBook
from engine.market.ticks import tick_index_or_none

STAKE: Final = 50.0  # the blueprint's price_for_£50
LADDER_LEVELS: Final = 25  # levels read for the £50 fill (a £50 fill never needs more)


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Player 1's (and player 2's best) prices at one instant. Prices are decimal odds or None."""

    present: bool  # the market and both runners have been seen
    status: str  # OPEN / SUSPENDED / CLOSED / "" before any definition
    inplay: bool
    back_price: float | None
    back_size: float
    lay_price: float | None
    lay_size: float
    back_price_50: float | None  # price_for_£50: volume-weighted price to back £50 on player 1
    lay_price_50: float | None  # the same on the lay side
    back_depth: float  # £ on the best DEPTH_LEVELS back prices
    lay_depth: float
    ltp: float | None
    traded: float  # player 1's cumulative matched volume (£)
    p2_back_price: float | None
    p2_lay_price: float | None
    spread_ticks: int  # best lay - best back of player 1, in ladder ticks (0 if one side empty)

    @property
    def suspended(self) -> bool:
        return self.status == "SUSPENDED"


EMPTY_SNAPSHOT: Final = BookSnapshot(
    present=False,
    status="",
    inplay=False,
    back_price=None,
    back_size=0.0,
    lay_price=None,
    lay_size=0.0,
    back_price_50=None,
    lay_price_50=None,
    back_depth=0.0,
    lay_depth=0.0,
    ltp=None,
    traded=0.0,
    p2_back_price=None,
    p2_lay_price=None,
    spread_ticks=0,
)


def _spread_ticks(back: float | None, lay: float | None) -> int:
    if back is None or lay is None:
        return 0
    lo, hi = tick_index_or_none(back), tick_index_or_none(lay)
    if lo is None or hi is None:  # off-ladder prices in old files: count nothing
        return 0
    return max(hi - lo, 0)


def snapshot_of(book: MarketBook, p1_id: int, p2_id: int) -> BookSnapshot:
    """Copy the numbers the aligner needs out of a live cached book."""
    p1: RunnerBook | None = book.runner(p1_id)
    p2: RunnerBook | None = book.runner(p2_id)
    if p1 is None or p2 is None:
        return EMPTY_SNAPSHOT
    backs = p1.back_levels(LADDER_LEVELS)
    lays = p1.lay_levels(LADDER_LEVELS)
    back_price = backs[0][0] if backs else None
    lay_price = lays[0][0] if lays else None
    p2_back, p2_lay = p2.best_back(), p2.best_lay()
    return BookSnapshot(
        present=True,
        status=book.status or "",
        inplay=bool(book.inplay),
        back_price=back_price,
        back_size=backs[0][1] if backs else 0.0,
        lay_price=lay_price,
        lay_size=lays[0][1] if lays else 0.0,
        back_price_50=price_for_stake(backs, STAKE),
        lay_price_50=price_for_stake(lays, STAKE),
        back_depth=sum(size for _, size in backs[:DEPTH_LEVELS]),
        lay_depth=sum(size for _, size in lays[:DEPTH_LEVELS]),
        ltp=p1.ltp,
        traded=p1.traded_total(),
        p2_back_price=p2_back[0] if p2_back else None,
        p2_lay_price=p2_lay[0] if p2_lay else None,
        spread_ticks=_spread_ticks(back_price, lay_price),
    )


def snapshots_at(
    stream_path: Path, market_id: str, p1_id: int, p2_id: int, times_s: Sequence[float]
) -> list[BookSnapshot]:
    """The book as last seen at each time (seconds since the epoch), in the order given.

    One pass over the file: queries are answered in time order just before the first message
    published after them is applied.
    """
    order = sorted(range(len(times_s)), key=lambda i: times_s[i])
    out: list[BookSnapshot] = [EMPTY_SNAPSHOT] * len(times_s)
    processor = StreamProcessor()
    cache = processor.cache
    k = 0

    def current() -> BookSnapshot:
        book = cache.get(market_id)
        return EMPTY_SNAPSHOT if book is None else snapshot_of(book, p1_id, p2_id)

    for record in HistoricalReader(stream_path):
        if record.pt is not None:
            while k < len(order) and record.pt > _ms(times_s[order[k]]):
                out[order[k]] = current()
                k += 1
            if k == len(order):
                break
        processor.process(record.message)
    if k < len(order):
        last = current()
        for i in order[k:]:
            out[i] = last
    return out


def _ms(t_s: float) -> float:
    return math.floor(t_s * 1000.0 + 1e-6)
