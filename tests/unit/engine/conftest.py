"""Fixtures shared by the engine's unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from adapters.betfair.betting import BetfairBetting
from adapters.simexchange import InProcessTransport, SimExchange, SimExchangeConfig
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.execution.config import OrdersConfig, RiskConfig, StakingConfig
from engine.execution.journal import Journal
from engine.execution.orders import OrderManager
from engine.execution.positions import PositionBook
from engine.execution.risk import RiskManager
from engine.market import MarketCache

SimManagerFactory = Callable[[RiskConfig, StakingConfig, float], Awaitable[OrderManager]]


@pytest.fixture
async def sim_order_manager(tmp_path: Path) -> AsyncIterator[SimManagerFactory]:
    """make(risk, staking, size) -> a real OrderManager (SQLite journal, risk manager, position
    book) over the simulated exchange, on market 1.42 with runners 1 and 2 quoted around evens with
    `size` £ on each best price; journals are closed at the end of the test."""
    journals: list[Journal] = []

    async def make(risk: RiskConfig, staking: StakingConfig, size: float) -> OrderManager:
        clock = ManualClock()
        sim = SimExchange(SimExchangeConfig(latency_ms=0, dedupe_customer_ref=False), clock)
        update = MarketCache(record_level_changes=True).apply(
            market_change(
                "1.42",
                definition=market_definition((1, 2)),
                runners=(
                    runner_change(1, atb=[(2.0, size)], atl=[(2.02, size)]),
                    runner_change(2, atb=[(1.96, size)], atl=[(2.0, size)]),
                ),
                image=True,
            ),
            clock(),
        )
        assert update is not None
        sim.on_market_update(update)
        positions = PositionBook()
        journal = await Journal.open(tmp_path / f"journal{len(journals)}.sqlite")
        journals.append(journal)
        return OrderManager(
            journal,
            BetfairBetting(InProcessTransport(sim)),
            RiskManager(risk, staking, positions, clock),
            positions,
            now_ms=clock,
            config=OrdersConfig(),
        )

    yield make
    for journal in journals:
        await journal.close()
