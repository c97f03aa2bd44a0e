"""From strategy intents to the order manager without an await on the hot path.

The engine hands every intent to an `OrderSink` synchronously. `ScheduledOrders` sizes it (when the
strategy asked to be sized: fractional Kelly within the risk head-room), turns it into an idempotent
`OrderDecision` and schedules the order manager's `submit` (risk check, journal intent, place) as a
task: the event path returns at once and the journal write and the exchange call happen on the
event loop afterwards (DESIGN.md §3).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from engine.execution.config import StakingConfig
from engine.execution.orders import OrderDecision, OrderManager, SubmitResult
from engine.execution.staking import floor_pennies, meets_minimum_stake, size_order
from engine.execution.types import CurrentOrder, MarketState
from engine.logs import get_logger
from engine.metrics import EngineMetrics
from engine.strategy import OrderIntent, PositionView

_log = get_logger("core.orders")


class OrderSink(Protocol):
    """Where the engine sends intents; must not block (schedule I/O, never await it)."""

    def submit(
        self, intent: OrderIntent, market: MarketState, decision_id: str, commission: float
    ) -> None: ...

    def kill(self, reason: str) -> None:
        """Engage the kill switch: no new orders, cancel everything open."""
        ...


class ScheduledOrders:
    """`OrderSink` over an `OrderManager`: every submission is a task on the running loop."""

    def __init__(
        self, manager: OrderManager, staking: StakingConfig, metrics: EngineMetrics
    ) -> None:
        self.manager = manager
        self.staking = staking
        self.metrics = metrics
        self.results: list[SubmitResult] = []
        self._tasks: set[asyncio.Task[object]] = set()

    def submit(
        self, intent: OrderIntent, market: MarketState, decision_id: str, commission: float
    ) -> None:
        size = intent.size
        if size is None:
            size = self._size_within_headroom(intent, market, commission)
            if size is None:
                return
        decision = OrderDecision(
            strategy_id=intent.strategy or "strategy",
            decision_id=decision_id,
            market_id=intent.market_id,
            selection_id=intent.selection_id,
            side=intent.side,
            price=intent.price,
            size=size,
            reason=intent.reason,
        )
        self._spawn(self._submit(decision, market))

    def _size_within_headroom(
        self, intent: OrderIntent, market: MarketState, commission: float
    ) -> float | None:
        """A "size me" intent: fractional Kelly, capped at what the risk limits accept now (the
        head-room of the strategy's position view), floored to pennies; None when that is below
        the exchange minimum (nothing to send: it could only be refused)."""
        sized = size_order(intent.side, intent.price, intent.p_win, commission, self.staking)
        if sized.stake <= 0.0:
            return None
        view = self.manager.position_view(market, (intent.selection_id,))
        room = view.max_stake(intent.selection_id, intent.side, intent.price)
        stake = floor_pennies(min(sized.stake, room))
        if not meets_minimum_stake(stake, intent.price, self.staking):
            return None
        return stake

    async def _submit(self, decision: OrderDecision, market: MarketState) -> None:
        result = await self.manager.submit(decision, market, expect_in_play=market.in_play)
        self.results.append(result)
        state = "risk_rejected" if result.reject_reason is not None else str(result.state).lower()
        self.metrics.orders.labels(state).inc()
        _log.info(
            "order_submitted",
            ref=result.ref,
            state=str(result.state),
            duplicate=result.duplicate,
            reject=str(result.reject_reason or ""),
            market_id=decision.market_id,
            side=str(decision.side),
            price=decision.price,
            size=decision.size,
        )

    def position_view(self, market: MarketState, selections: tuple[int, int]) -> PositionView:
        """The strategy's `MatchView.position`: the engine asks any sink that has this method."""
        return self.manager.position_view(market, selections)

    def kill(self, reason: str) -> None:
        self._spawn(self.manager.kill(reason))

    def on_order_updates(self, orders: list[CurrentOrder]) -> None:
        """Order-stream rows (the source of truth): adopted by the manager in arrival order."""
        if orders:
            self._spawn(self._apply(orders))

    async def _apply(self, orders: list[CurrentOrder]) -> None:
        for order in orders:
            await self.manager.apply_exchange_order(order, kind="order_stream")

    def settle(self, market_id: str, winner: int | None, commission_rate: float) -> None:
        """A market closed: book its P&L (scheduled like everything else)."""
        self._spawn(self.manager.settle_market(market_id, winner, commission_rate))

    def _spawn(self, coroutine: object) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("order_task_failed", error=repr(task.exception()))

    async def drain(self) -> None:
        """Wait for every scheduled submission (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
