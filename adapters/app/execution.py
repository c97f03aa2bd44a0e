"""Order execution for the daemon: journal, risk, positions and the order manager around an
exchange port, plus the simulated exchange that demo and paper modes trade against."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.betfair.betting import BetfairBetting
from adapters.simexchange import InProcessTransport, SimExchange
from engine.core.orders import ScheduledOrders
from engine.execution.config import ExecutionConfig, RiskConfig, StakingConfig
from engine.execution.journal import Journal, OrderState
from engine.execution.order_stream import read_order_changes
from engine.execution.orders import OrderManager
from engine.execution.port import ExchangePort
from engine.execution.positions import PositionBook
from engine.execution.risk import RiskManager
from engine.logs import get_logger
from engine.market.update import MarketUpdate
from engine.metrics import EngineMetrics
from engine.strategy import Strategy

_log = get_logger("app.execution")


def load_strategy(spec: str, staking: StakingConfig, risk: RiskConfig) -> Strategy | None:
    """`MODULE:CLASS` → an instance; "" → None.

    The class receives, by keyword, whichever of `staking` and `risk` its constructor names, so a
    user strategy asks for the configuration it needs and nothing else.
    """
    if not spec:
        return None
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"daemon.strategy: cannot import {module_name} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ValueError(f"daemon.strategy: {module_name} has no {class_name}")
    offered = {"staking": staking, "risk": risk}
    accepted = inspect.signature(cls).parameters
    strategy: Strategy = cls(**{k: v for k, v in offered.items() if k in accepted})
    return strategy


@dataclass(slots=True)
class Execution:
    """The running execution stack."""

    journal: Journal
    manager: OrderManager
    sink: ScheduledOrders

    async def shutdown(self, cancel: bool) -> int:
        """Cancel resting orders (or keep them), wait for scheduled work, close the journal."""
        await self.sink.drain()
        cancelled = 0
        if cancel:
            for order in list(self.manager.orders.values()):
                if order.state is OrderState.EXECUTABLE and order.bet_id is not None:
                    await self.manager.cancel(order.ref)
                    cancelled += 1
        await self.sink.drain()
        await self.journal.close()
        return cancelled

    def order_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for order in self.manager.orders.values():
            counts[str(order.state)] = counts.get(str(order.state), 0) + 1
        return counts

    def matched_stake(self) -> float:
        return round(sum(o.size_matched for o in self.manager.orders.values()), 2)


async def start_execution(
    config: ExecutionConfig,
    exchange: ExchangePort,
    metrics: EngineMetrics,
    now_ms: Callable[[], int],
    journal_path: Path,
) -> Execution:
    """Open the journal, reconcile with the exchange, and return the scheduled order sink."""
    journal = await Journal.open(journal_path, synchronous=config.orders.synchronous)
    positions = PositionBook()
    risk = RiskManager(config.risk, config.staking, positions, now_ms)
    manager = OrderManager(journal, exchange, risk, positions, now_ms=now_ms, config=config.orders)
    report = await manager.start()
    _log.info("orders_reconciled", **dataclasses.asdict(report))
    metrics.daily_loss_limit.set(config.risk.daily_loss_limit)
    return Execution(journal, manager, ScheduledOrders(manager, config.staking, metrics))


def simulated_port(sim: SimExchange) -> BetfairBetting:
    """The betting adapter straight into the simulator (same request building and parsing as
    against Betfair)."""
    return BetfairBetting(InProcessTransport(sim))


def sim_book_listener(sim: SimExchange, sink: ScheduledOrders) -> Callable[[MarketUpdate], None]:
    """Feed every engine book update to the simulator, then its order changes (fills, lapses,
    settlement) back to the order manager, as the order stream would."""
    settled: set[str] = set()

    def listen(update: MarketUpdate) -> None:
        sim.on_market_update(update)
        changes = sim.drain_order_stream_changes()
        if changes:
            sink.on_order_updates(read_order_changes(changes).orders)
        book = update.book
        if book.closed and book.market_id not in settled:
            settled.add(book.market_id)
            winners = [r.selection_id for r in book if r.status == "WINNER"]
            rate = (book.market_base_rate or 0.0) / 100.0
            sink.settle(book.market_id, winners[0] if len(winners) == 1 else None, rate)

    return listen
