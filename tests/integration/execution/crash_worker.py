"""A trading process for the crash-safety test: runs the real order manager against a betting
server over HTTP, following a seeded plan, and reports every journal commit on stdout.

Usage: python crash_worker.py URL JOURNAL MARKET SEED STEPS

Each committed journal event is written as ``C <seq> <ref> <kind>`` *after* its commit, so the
parent knows a record was durable when it saw the line. The plan is the same on every restart
(decisions are identified by seed and index), which is what makes a restart try to redo work.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

import aiohttp

from adapters.betfair.betting import BetfairBetting, HttpJsonRpcTransport
from engine.execution.config import OrdersConfig, RiskConfig, StakingConfig
from engine.execution.journal import Journal, OrderState
from engine.execution.orders import OrderDecision, OrderManager
from engine.execution.positions import PositionBook
from engine.execution.risk import RiskManager
from engine.execution.types import MarketState, Side
from engine.logs import configure_logging


def plan(seed: int, steps: int) -> list[tuple[str, int, float, float]]:
    """(action, decision index, price, size): place every step, cancel/sync now and then."""
    rng = random.Random(seed)
    actions: list[tuple[str, int, float, float]] = []
    for index in range(steps):
        price = rng.choice((2.0, 2.2, 2.4))
        size = float(rng.randint(2, 10))
        actions.append(("place", index, price, size))
        if index % 3 == 2:
            actions.append(("cancel", index - 1, 0.0, 0.0))
        if index % 4 == 3:
            actions.append(("sync", index, 0.0, 0.0))
    actions.append(("sync", steps, 0.0, 0.0))
    return actions


def report_commit(seq: int, ref: str, kind: str) -> None:
    sys.stdout.write(f"C {seq} {ref} {kind}\n")
    sys.stdout.flush()


async def main(url: str, journal_path: str, market_id: str, seed: int, steps: int) -> None:
    def now_ms() -> int:
        return int(time.time() * 1000)

    journal = await Journal.open(journal_path, on_commit=report_commit)
    positions = PositionBook()
    risk_config = RiskConfig(
        max_order_stake=100.0,
        max_order_liability=1000.0,
        max_selection_exposure=1e6,
        max_match_exposure=1e6,
        max_total_exposure=1e6,
        max_orders_per_window=1000,
    )
    risk = RiskManager(risk_config, StakingConfig(), positions, now_ms)
    async with aiohttp.ClientSession() as session:
        exchange = BetfairBetting(
            HttpJsonRpcTransport(session, url, "app-key", lambda: "token", timeout_s=5.0)
        )
        config = OrdersConfig(resend_unconfirmed=True, resend_max_age_s=120.0)
        manager = OrderManager(journal, exchange, risk, positions, now_ms=now_ms, config=config)
        report = await manager.start([market_id])
        sys.stdout.write(f"R {report.resent} {report.adopted} {report.abandoned}\n")
        sys.stdout.flush()
        market = MarketState(market_id, "OPEN", in_play=False, runner_ids=(1, 2), event_id="e")
        strategy = f"crash{seed}"
        for action, index, price, size in plan(seed, steps):
            if action == "place":
                await manager.submit(
                    OrderDecision(strategy, f"d{index}", market_id, 1, Side.BACK, price, size),
                    market,
                )
            elif action == "cancel":
                ref = manager.ref_for(
                    OrderDecision(strategy, f"d{index}", market_id, 1, Side.BACK, 2.0, 1.0)
                )
                order = manager.orders.get(ref)
                if order is not None and order.state is OrderState.EXECUTABLE:
                    await manager.cancel(ref)
            else:
                await manager.sync([market_id])
    await journal.close()
    sys.stdout.write("DONE\n")
    sys.stdout.flush()


if __name__ == "__main__":
    configure_logging("ERROR", json=True)
    url_arg, journal_arg, market_arg, seed_arg, steps_arg = sys.argv[1:6]
    asyncio.run(main(url_arg, journal_arg, market_arg, int(seed_arg), int(steps_arg)))
