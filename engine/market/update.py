"""What one market change did to the cache: the engine's cheap per-update summary.

The engine reacts to *changes* (a best price moved, a trade printed, the market suspended); it
should not have to diff books to find them. `MarketCache.apply` fills one `MarketUpdate` per
market change as a by-product of applying it, so the summary costs a few appends.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.market.book import MarketBook, RunnerKey


class TradeDelta(NamedTuple):
    """New volume traded at one price in this update (trd is cumulative per price on the wire)."""

    runner: RunnerKey
    price: float
    volume: float


class LevelChange(NamedTuple):
    """One available-to-back/lay level replacement (recorded only when the cache is asked to).

    `side` is "B" (available to back, `atb`) or "L" (available to lay, `atl`). A queue model uses
    decreases at an order's price as cancellations ahead of it.
    """

    runner: RunnerKey
    side: str
    price: float
    old_size: float
    new_size: float


class MarketUpdate:
    """Summary of one applied market change.

    image: the change replaced the cached market (``img`` or first sight of the market).
    best_changed: runners whose best back or lay (price or size) changed, in any of the views.
    traded: runners with new traded volume; `trades` has the per-price increments.
    unknown_runners: runners created from a runner change although the market's definition does not
    list them (a market seen without any definition creates its runners quietly).
    off_ladder / off_ladder_ltp: levels / last traded prices at prices that are not Betfair ticks
    (kept as sent and counted; old files carry some).
    malformed: part of the change could not be applied (the rest of the book is intact and the
    cache counted and logged it).
    """

    __slots__ = (
        "best_changed",
        "book",
        "conflated",
        "definition_changed",
        "image",
        "inplay_changed",
        "level_changes",
        "malformed",
        "market_id",
        "off_ladder",
        "off_ladder_ltp",
        "publish_time",
        "status_changed",
        "traded",
        "trades",
        "unknown_runners",
    )

    def __init__(
        self, market_id: str, publish_time: int, book: MarketBook, image: bool, conflated: bool
    ) -> None:
        self.market_id = market_id
        self.publish_time = publish_time
        self.book = book
        self.image = image
        self.conflated = conflated
        self.definition_changed = False
        self.status_changed = False
        self.inplay_changed = False
        self.best_changed: list[RunnerKey] = []
        self.traded: list[RunnerKey] = []
        self.trades: list[TradeDelta] = []
        self.unknown_runners: list[RunnerKey] = []
        self.level_changes: list[LevelChange] | None = None
        self.off_ladder = 0
        self.off_ladder_ltp = 0
        self.malformed = False

    @property
    def pt(self) -> int:
        """Publish time in epoch milliseconds (the stream's ``pt``)."""
        return self.publish_time

    def __repr__(self) -> str:
        flags = [
            name
            for name in ("image", "conflated", "definition_changed", "status_changed", "malformed")
            if getattr(self, name)
        ]
        return (
            f"MarketUpdate({self.market_id}, pt={self.publish_time}, flags={flags}, "
            f"best_changed={self.best_changed}, traded={self.traded})"
        )
