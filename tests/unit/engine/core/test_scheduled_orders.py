"""ScheduledOrders sizes a "size me" intent with fractional Kelly capped at the risk head-room, so
the order it sends is one the risk check accepts (a real order manager, journal and simulated
exchange behind it: the `sim_order_manager` fixture)."""

from __future__ import annotations

import pytest

from engine.core.orders import ScheduledOrders
from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.types import MarketState, Side
from engine.metrics import EngineMetrics
from engine.strategy import OrderIntent

OPEN = MarketState("1.42", "OPEN", in_play=True, runner_ids=(1, 2), event_id="e")
# a big bankroll and full Kelly: the unconstrained stake is far above the per-order limits
STAKING = StakingConfig(bankroll=100_000.0, kelly_fraction=1.0)


def _size_me(side: Side, price: float) -> OrderIntent:
    p_win = 0.7 if side is Side.BACK else 0.3  # a clear edge either way at prices near 2.0
    return OrderIntent("1.42", 1, side, price, None, p_win, "edge")


async def test_a_size_me_lay_is_capped_at_the_head_room_and_accepted(sim_order_manager):
    risk = RiskConfig(max_order_liability=1_000.0, max_order_stake=1_000.0)
    sink = ScheduledOrders(await sim_order_manager(risk, STAKING, 5000.0), STAKING, EngineMetrics())
    room = sink.manager.position_view(OPEN, (1,)).max_stake(1, Side.LAY, 2.02)

    sink.submit(_size_me(Side.LAY, 2.02), OPEN, "d1", 0.05)
    await sink.drain()

    (result,) = sink.results
    assert result.reject_reason is None and str(result.state) == "COMPLETE"
    matched = sink.manager.position_view(OPEN, (1,)).selection(1).lay_matched
    assert matched == pytest.approx(int(room * 100) / 100)  # the head-room, floored to pennies
    assert matched * (2.02 - 1.0) <= 150.0  # the selection limit binds, not Kelly


async def test_no_head_room_sends_nothing(sim_order_manager):
    manager = await sim_order_manager(RiskConfig(max_selection_exposure=0.5), STAKING, 5000.0)
    sink = ScheduledOrders(manager, STAKING, EngineMetrics())

    sink.submit(_size_me(Side.BACK, 2.0), OPEN, "d1", 0.05)
    await sink.drain()

    assert sink.results == []  # below the £1 minimum: nothing that could only be refused
