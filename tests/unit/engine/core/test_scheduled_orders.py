"""ScheduledOrders sizes a "size me" intent with fractional Kelly capped at the risk head-room, so
the order it sends is one the risk check accepts (a real order manager, journal and simulated
exchange behind it)."""

from __future__ import annotations

import pytest

from adapters.betfair.betting import BetfairBetting
from adapters.simexchange import InProcessTransport, SimExchange, SimExchangeConfig
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.core.orders import ScheduledOrders
from engine.execution.config import OrdersConfig, RiskConfig, StakingConfig
from engine.execution.journal import Journal
from engine.execution.orders import OrderManager
from engine.execution.positions import PositionBook
from engine.execution.risk import RiskManager
from engine.execution.types import MarketState, Side
from engine.market import MarketCache
from engine.metrics import EngineMetrics
from engine.strategy import OrderIntent

OPEN = MarketState("1.42", "OPEN", in_play=True, runner_ids=(1, 2), event_id="e")
# a big bankroll and full Kelly: the unconstrained stake is far above the per-order limits
STAKING = StakingConfig(bankroll=100_000.0, kelly_fraction=1.0)


async def _sink(tmp_path, risk_config: RiskConfig) -> tuple[ScheduledOrders, Journal]:
    clock = ManualClock()
    cache = MarketCache(record_level_changes=True)
    sim = SimExchange(SimExchangeConfig(latency_ms=0, dedupe_customer_ref=False), clock)
    update = cache.apply(
        market_change(
            "1.42",
            definition=market_definition((1, 2)),
            runners=(
                runner_change(1, atb=[(2.0, 5000)], atl=[(2.02, 5000)]),
                runner_change(2, atb=[(1.96, 5000)], atl=[(2.0, 5000)]),
            ),
            image=True,
        ),
        clock(),
    )
    assert update is not None
    sim.on_market_update(update)
    positions = PositionBook()
    risk = RiskManager(risk_config, STAKING, positions, clock)
    journal = await Journal.open(tmp_path / "journal.sqlite")
    manager = OrderManager(
        journal,
        BetfairBetting(InProcessTransport(sim)),
        risk,
        positions,
        now_ms=clock,
        config=OrdersConfig(),
    )
    return ScheduledOrders(manager, STAKING, EngineMetrics()), journal


def _size_me(side: Side, price: float) -> OrderIntent:
    p_win = 0.7 if side is Side.BACK else 0.3  # a clear edge either way at prices near 2.0
    return OrderIntent("1.42", 1, side, price, None, p_win, "edge")


async def test_a_size_me_lay_is_capped_at_the_head_room_and_accepted(tmp_path):
    risk = RiskConfig(max_order_liability=1_000.0, max_order_stake=1_000.0)
    sink, journal = await _sink(tmp_path, risk)
    room = sink.manager.position_view(OPEN, (1,)).max_stake(1, Side.LAY, 2.02)

    sink.submit(_size_me(Side.LAY, 2.02), OPEN, "d1", 0.05)
    await sink.drain()
    await journal.close()

    (result,) = sink.results
    assert result.reject_reason is None and str(result.state) == "COMPLETE"
    matched = sink.manager.position_view(OPEN, (1,)).selection(1).lay_matched
    assert matched == pytest.approx(int(room * 100) / 100)  # the head-room, floored to pennies
    assert matched * (2.02 - 1.0) <= 150.0  # the selection limit binds, not Kelly


async def test_no_head_room_sends_nothing(tmp_path):
    sink, journal = await _sink(tmp_path, RiskConfig(max_selection_exposure=0.5))

    sink.submit(_size_me(Side.BACK, 2.0), OPEN, "d1", 0.05)
    await sink.drain()
    await journal.close()

    assert sink.results == []  # below the £1 minimum: nothing that could only be refused
