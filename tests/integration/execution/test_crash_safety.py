"""Crash safety of the order manager.

A worker process (crash_worker.py) places, cancels and syncs orders through the real betting
adapter against the simulator's betting endpoints served here on 127.0.0.1, while this process
keeps trading volume flowing so resting orders fill. The worker is SIGKILLed at seeded random
points (right after a journal commit, plus a random few milliseconds), restarted with the same
plan, and finally allowed to finish. Then, for every trial:
- no customerOrderRef was placed twice on the exchange (the simulator's own customerRef
  de-duplication is OFF, so only the order manager can prevent duplicates);
- the journal and the exchange agree order by order (bet id, matched and remaining size, state),
  checked after trading pauses and the worker's final run has synced;
- every decision of the plan is in the journal exactly once, none left unconfirmed;
- every journal record the worker reported as committed is still there, unchanged.
"""

import asyncio
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.simexchange import SimExchange, SimExchangeConfig, register_betting_routes
from adapters.simexchange.synthetic import market_change, market_definition, runner_change
from engine.execution.orders import make_customer_order_ref
from engine.market import MarketCache

WORKER = Path(__file__).with_name("crash_worker.py")
TRIALS = 30
STEPS = 10
MAX_KILLS = 2


class Venue:
    """The simulator behind HTTP, plus a feeder that trades at 2.2 so resting orders fill."""

    def __init__(self) -> None:
        self.cache = MarketCache(record_level_changes=True)
        self.sim = SimExchange(
            SimExchangeConfig(latency_ms=0, dedupe_customer_ref=False, starting_balance=1e9),
            lambda: int(time.time() * 1000),
        )
        self.market = ""
        self.traded = 0.0

    def open_market(self, market_id: str) -> None:
        """A fresh market per trial, so trials never see each other's orders."""
        self.market, self.traded = market_id, 0.0
        self._apply(
            [
                runner_change(1, atb=[(2.0, 1e6)], atl=[(2.2, 20.0), (2.4, 50.0)]),
                runner_change(2, atb=[(1.8, 1e6)], atl=[(1.9, 1e6)]),
            ],
            definition=market_definition((1, 2)),
            image=True,
        )

    def _apply(self, runners, definition=None, image=False) -> None:
        update = self.cache.apply(
            market_change(self.market, definition=definition, runners=runners, image=image),
            int(time.time() * 1000),
        )
        assert update is not None
        self.sim.on_market_update(update)

    async def feed_trades(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.market:
                self.traded += 6.0
                self._apply([runner_change(1, trd=[(2.2, self.traded)], atl=[(2.2, 20.0)])])
            await asyncio.sleep(0.01)


async def run_worker(
    url: str,
    journal: Path,
    market: str,
    seed: int,
    kill_after: int | None,
    rng: random.Random,
    recovered: Counter[str],
) -> tuple[list[tuple[int, str, str]], bool]:
    """Run the worker; SIGKILL it after `kill_after` commits. Returns (commits seen, finished)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        str(journal),
        market,
        str(seed),
        str(STEPS),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(WORKER.parents[3])},
    )
    assert process.stdout is not None
    commits: list[tuple[int, str, str]] = []
    finished = False
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        if not line:
            break
        parts = line.decode().split()
        if parts and parts[0] == "C":
            commits.append((int(parts[1]), parts[2], parts[3]))
            if kill_after is not None and len(commits) >= kill_after:
                await asyncio.sleep(rng.random() * 0.005)
                process.send_signal(signal.SIGKILL)
                break
        elif parts and parts[0] == "R":  # what start-up reconciliation had to repair
            recovered.update(resent=int(parts[1]), adopted=int(parts[2]), abandoned=int(parts[3]))
        elif parts == ["DONE"]:
            finished = True
    _, stderr = await process.communicate()
    if kill_after is None:
        assert process.returncode == 0, stderr.decode()[-2000:]
    else:
        assert process.returncode in (0, -signal.SIGKILL), stderr.decode()[-2000:]
    return commits, finished


def journal_rows(path: Path) -> tuple[dict[str, tuple[Any, ...]], dict[int, tuple[str, str]]]:
    db = sqlite3.connect(path)
    try:
        orders = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT ref, state, bet_id, size_matched, size_remaining FROM orders"
            )
        }
        events = {
            row[0]: (row[1], row[2]) for row in db.execute("SELECT seq, ref, kind FROM events")
        }
    finally:
        db.close()
    return orders, events


@pytest.mark.slow
async def test_sigkill_at_random_points_loses_nothing_and_duplicates_nothing(tmp_path):
    venue = Venue()
    app = web.Application()
    register_betting_routes(app, venue.sim)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/exchange/"
    stop = asyncio.Event()
    feeder = asyncio.create_task(venue.feed_trades(stop))
    kills = 0
    recovered: Counter[str] = Counter()
    try:
        for trial in range(TRIALS):
            rng = random.Random(1000 + trial)
            seed = 7000 + trial
            journal = tmp_path / f"journal-{trial}.sqlite"
            market = f"1.9{trial:03d}"
            venue.open_market(market)
            seen: list[tuple[int, str, str]] = []
            # the first run makes at least 2 commits per step (intent, placed): a kill after
            # 1..2*STEPS commits always lands; a later one may find the work already done
            for attempt in range(rng.randint(1, MAX_KILLS)):
                kill_after = rng.randint(1, 2 * STEPS if attempt == 0 else 8)
                commits, finished = await run_worker(
                    url, journal, market, seed, kill_after, rng, recovered
                )
                seen.extend(commits)
                kills += int(not finished)
                if finished:
                    break
            venue.market = ""  # trading pauses: the final run's last sync sees a settled picture
            commits, finished = await run_worker(url, journal, market, seed, None, rng, recovered)
            seen.extend(commits)
            assert finished

            refs = {make_customer_order_ref("cs", f"crash{seed}", f"d{i}", 0) for i in range(STEPS)}
            on_exchange = [o for o in venue.sim.all_orders() if o.customer_order_ref in refs]
            counts = Counter(o.customer_order_ref for o in on_exchange)
            assert max(counts.values()) == 1, f"trial {trial}: duplicated {counts.most_common(2)}"

            orders, events = journal_rows(journal)
            assert set(orders) == refs, f"trial {trial}: journal misses decisions"
            for order in on_exchange:
                state, bet_id, size_matched, size_remaining = orders[order.customer_order_ref]
                assert bet_id == order.bet_id, f"trial {trial}: bet id differs"
                assert size_matched == pytest.approx(order.size_matched), f"trial {trial}"
                assert size_remaining == pytest.approx(order.size_remaining), f"trial {trial}"
                assert state == ("COMPLETE" if order.size_remaining == 0 else "EXECUTABLE")
            unplaced = refs - set(counts)
            assert all(orders[r][0] in ("REJECTED", "ABANDONED") for r in unplaced), (
                f"trial {trial}: {[(r, orders[r]) for r in unplaced]}"
            )
            assert not [r for r, row in orders.items() if row[0] in ("INTENT", "UNKNOWN")]
            for seq, ref, kind in seen:
                assert events.get(seq) == (ref, kind), f"trial {trial}: lost record {seq}"
    finally:
        stop.set()
        await feeder
        await runner.cleanup()
    print(f"crash trials={TRIALS} kills={kills} recovered={dict(recovered)}")  # shown with -s
    assert kills >= TRIALS  # every trial was interrupted at least once
    # the kills landed inside the dangerous window (intent journaled, outcome not yet journaled):
    # restarts had to re-send never-sent intents and adopt orders placed before the kill
    assert recovered["resent"] > 0 and recovered["adopted"] > 0, recovered
    assert recovered["abandoned"] == 0
