"""Market-side core types: the Betfair price ladder and the order-book cache.

Public API (import from here):

- `MarketCache` — applies decoded Exchange Stream market changes; `apply(change, pt)` returns a
  `MarketUpdate` (what changed) and mutates the market's `MarketBook` in place.
- `MarketBook` / `RunnerBook` — the read side: status, in-play, bet delay, base rate, total
  matched, and per runner `back_levels(depth)`, `lay_levels(depth)`, `best_back()`, `best_lay()`,
  `ltp`, `tv`, and the raw views `atb`/`atl`/`trd` (`PriceLadder`) and
  `batb`/`batl`/`bdatb`/`bdatl` (`PositionLadder`).
- `MarketUpdate`, `TradeDelta`, `LevelChange` — the per-update change summary.
- `engine.market.ticks` — the 350-price tick ladder.
"""

from engine.market.book import MarketBook, RunnerBook, RunnerKey
from engine.market.cache import CacheCounters, MarketCache
from engine.market.ladder import PositionLadder, PriceLadder, PriceSize
from engine.market.update import LevelChange, MarketUpdate, TradeDelta

__all__ = [
    "CacheCounters",
    "LevelChange",
    "MarketBook",
    "MarketCache",
    "MarketUpdate",
    "PositionLadder",
    "PriceLadder",
    "PriceSize",
    "RunnerBook",
    "RunnerKey",
    "TradeDelta",
]
