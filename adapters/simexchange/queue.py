"""Queue position of a resting order, and the liquidity the simulator itself has consumed.

Queue model (documented in README, section execution):
- On arrival an order joins the back of the queue at its price: `ahead` = displayed size in its
  column at that price, plus our own earlier orders there.
- Trades at its price (the `trd` increment, divided by `traded_volume_divisor` because Betfair's
  traded volume counts both sides of every match) consume the queue from the front: `ahead`
  shrinks first, then the order fills.
- A trade at a price *through* the order (a layer paying more than our back's price, a backer
  accepting less than our lay's price) means our level was cleared first: `ahead` becomes 0 and
  the order fills by the traded amount.
- A decrease of displayed size that trades do not explain is a cancellation. One cancellation is
  one order leaving, wholly ahead of us or wholly behind: under "random" it is ahead with
  probability ahead / displayed-before (size is uniformly spread through the queue), drawn from the
  seeded generator; "proportional" uses the expectation (ahead shrinks by decrease × that share);
  "none" ignores cancellations (flumine's behaviour). Either way `ahead` never exceeds the size
  still displayed.
"""

from __future__ import annotations

import random

from adapters.simexchange.config import CancelModel

LevelKey = tuple[str, int, str, float]
"""(market id, selection id, column "B"/"L", price)."""


def advance_on_cancel(
    ahead: float, displayed_before: float, cancelled: float, model: CancelModel, rng: random.Random
) -> float:
    """New size ahead after `cancelled` left a level that displayed `displayed_before`."""
    if cancelled <= 0 or ahead <= 0 or displayed_before <= 0 or model == "none":
        return ahead
    share = min(1.0, ahead / displayed_before)
    if model == "proportional":
        return max(0.0, ahead - cancelled * share)
    if rng.random() < share:
        return max(0.0, ahead - cancelled)
    return ahead


def advance_on_trade(ahead: float, traded: float) -> tuple[float, float]:
    """(new ahead, size that reached us) after `traded` matched at our price."""
    if traded <= 0:
        return ahead, 0.0
    if traded <= ahead:
        return ahead - traded, 0.0
    return 0.0, traded - ahead


class ConsumedLiquidity:
    """What our own crossing orders took from displayed levels the recording cannot know about.

    A replayed book never shows our trades, so without this view two orders could take the same
    £100 twice. Consumption at a level is remembered until the displayed size falls (the recorded
    market took that size away too; we assume ours was part of what went) or the level empties.
    """

    def __init__(self) -> None:
        self._consumed: dict[LevelKey, float] = {}

    def available(self, key: LevelKey, displayed: float) -> float:
        return max(0.0, displayed - self._consumed.get(key, 0.0))

    def consume(self, key: LevelKey, size: float) -> None:
        if size > 0:
            self._consumed[key] = self._consumed.get(key, 0.0) + size

    def on_level_change(self, key: LevelKey, old_size: float, new_size: float) -> None:
        consumed = self._consumed.get(key)
        if consumed is None:
            return
        if new_size <= 0:
            del self._consumed[key]
        elif new_size < old_size:
            left = consumed - (old_size - new_size)
            if left <= 0:
                del self._consumed[key]
            else:
                self._consumed[key] = left

    def reset_market(self, market_id: str) -> None:
        for key in [k for k in self._consumed if k[0] == market_id]:
            del self._consumed[key]

    def consumed(self, key: LevelKey) -> float:
        return self._consumed.get(key, 0.0)
