"""A harness that drives the simulator through the real MarketCache with synthetic changes."""

from typing import Any

import pytest

from adapters.simexchange import SimExchange, SimExchangeConfig
from adapters.simexchange.orders import SimOrder
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.market import MarketCache

MARKET = "1.500"
RUNNERS = (11, 22)


class SimHarness:
    def __init__(self, **config: Any) -> None:
        settings: dict[str, Any] = {"latency_ms": 0, "cancel_model": "proportional"}
        settings.update(config)
        self.clock = ManualClock()
        self.cache = MarketCache(record_level_changes=True)
        self.sim = SimExchange(SimExchangeConfig(**settings), self.clock)

    def feed(
        self,
        *runners: dict[str, Any],
        definition: dict[str, Any] | None = None,
        image: bool = False,
        after_ms: int = 0,
    ) -> None:
        self.clock.advance(after_ms)
        self.sim.advance(self.clock())  # orders due by now meet the book as it was
        update = self.cache.apply(
            market_change(MARKET, definition=definition, runners=runners, image=image),
            self.clock(),
        )
        assert update is not None
        self.sim.on_market_update(update)

    def define(self, *, after_ms: int = 0, **kwargs: Any) -> None:
        self.feed(definition=market_definition(RUNNERS, **kwargs), after_ms=after_ms)

    def open_market(self, **kwargs: Any) -> None:
        """Selection 11: back 2.00 x 100, 1.98 x 50 | lay 2.02 x 80, 2.04 x 60."""
        self.feed(
            runner_change(11, atb=[(2.0, 100), (1.98, 50)], atl=[(2.02, 80), (2.04, 60)]),
            runner_change(22, atb=[(1.96, 100)], atl=[(2.0, 100)]),
            definition=market_definition(RUNNERS, **kwargs),
            image=True,
        )

    def place(
        self,
        side: str,
        price: float,
        size: float,
        *,
        selection: int = 11,
        persistence: str = "LAPSE",
        ref: str = "",
        customer_ref: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "marketId": MARKET,
            "instructions": [
                {
                    "orderType": "LIMIT",
                    "selectionId": selection,
                    "side": side,
                    "limitOrder": {"price": price, "size": size, "persistenceType": persistence},
                    "customerOrderRef": ref or None,
                }
            ],
        }
        if customer_ref is not None:
            params["customerRef"] = customer_ref
        return self.sim.place_orders(params)

    def placed(self, side: str, price: float, size: float, **kwargs: Any) -> SimOrder:
        result = self.place(side, price, size, **kwargs)
        assert result["status"] == "SUCCESS", result
        return self.sim.orders[result["instructionReports"][0]["betId"]]


@pytest.fixture
def harness() -> SimHarness:
    h = SimHarness()
    h.open_market()
    return h


@pytest.fixture
def make_harness():
    return SimHarness
