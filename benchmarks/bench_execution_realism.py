"""How much does simulator realism change a backtest? Fills and P&L of a passive and an aggressive
strategy on one real in-play tennis market, with queue position / bet delay switched on and off.

Replays ../shared/data/betfair/historical/tennis_wimbledon2018_1.145329255.bz2 (Khachanov v
Djokovic, Wimbledon 2018; betDelay 5 s in play) through the stream processor and market cache into
the simulated exchange, with a simulated clock at each message's `pt`. Strategies place orders
through the same Betfair betting adapter the live daemon uses (in-process transport).

Strategies (in play only, on the favourite, £10 per order, a decision every 20 s of market time):
- passive: keep one BACK resting at the best lay price and one LAY at the best back price
  (joining the front price of each queue); an order left behind by the market is moved to the new
  touch with replaceOrders. PERSIST.
- aggressive: momentum taker: if the last traded price shortened since the previous decision,
  BACK at the best back price (crossing); if it drifted, LAY at the best lay price. LAPSE.

Also measured: the cost of one journal commit (an order intent) with synchronous=FULL and NORMAL,
which is the price of journaling before sending.

Peer: with `--flumine-python /work/bench-venv/bin/python` (benchmarks/setup_bench_venv.sh) the same
passive strategy also runs on flumine's simulated exchange (benchmarks/execution_flumine_peer.py),
with its default settings and with `simulation_available_prices`.

Usage: python benchmarks/bench_execution_realism.py [--json] [--file PATH] [--flumine-python PY]
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.betfair.betting import BetfairBetting
from adapters.betfair.historical import HistoricalReader
from adapters.betfair.messages import ChangeMessage
from adapters.betfair.processor import StreamProcessor
from adapters.simexchange import InProcessTransport, SimExchange, SimExchangeConfig
from adapters.simexchange.synthetic import ManualClock
from engine.execution.journal import Journal, JournalOrder, OrderState
from engine.execution.types import OrderRequest, Outcome, Persistence, Side
from engine.logs import configure_logging
from engine.market import MarketBook, MarketCache

DEFAULT_FILE = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
)
DECISION_EVERY_MS = 20_000
STAKE = 10.0

REALISM: dict[str, dict[str, Any]] = {
    "realistic (queue + delay)": {},
    "queue without cancellations ahead": {"cancel_model": "none"},
    "flumine-like (no cancels, no crossing fills)": {
        "cancel_model": "none",
        "trade_through_fills": False,
        "book_crossing_fills": False,
    },
    "no queue position": {"queue_position": False},
    "no bet delay": {"bet_delay": False},
    "naive (neither, 0 latency)": {"queue_position": False, "bet_delay": False, "latency_ms": 0},
}


@dataclass(slots=True)
class Working:
    bet_id: str
    price: float


@dataclass(slots=True)
class StrategyState:
    next_decision_ms: int = 0
    last_ltp: float | None = None
    working: dict[Side, Working] = field(default_factory=dict)
    orders: int = 0
    replaces: int = 0


def _favourite(book: MarketBook) -> int | None:
    best: tuple[float, int] | None = None
    for runner in book:
        if runner.status not in (None, "ACTIVE") or runner.ltp is None:
            continue
        if best is None or runner.ltp < best[0]:
            best = (runner.ltp, runner.selection_id)
    return best[1] if best else None


class Strategy(abc.ABC):
    name = ""

    def __init__(self, port: BetfairBetting, market_id: str) -> None:
        self.port = port
        self.market_id = market_id
        self.state = StrategyState()
        self.selection: int | None = None

    async def on_book(self, book: MarketBook, now_ms: int) -> None:
        if not book.inplay or book.status != "OPEN" or now_ms < self.state.next_decision_ms:
            return
        self.state.next_decision_ms = now_ms + DECISION_EVERY_MS
        if self.selection is None:
            self.selection = _favourite(book)
        if self.selection is not None:
            await self.decide(book, self.selection)

    @abc.abstractmethod
    async def decide(self, book: MarketBook, selection: int) -> None:
        """Place or cancel orders on `selection` (the passive and aggressive strategies below)."""

    async def place(
        self, selection: int, side: Side, price: float, persistence: Persistence
    ) -> str:
        self.state.orders += 1
        ref = f"{self.name[:3]}-{self.state.orders}"
        request = OrderRequest(self.market_id, selection, side, price, STAKE, ref, persistence)
        [report] = await self.port.place_orders(self.market_id, [request])
        if report.outcome is not Outcome.DONE or report.bet_id is None:
            return ""
        return report.bet_id


class PassiveStrategy(Strategy):
    name = "passive"

    async def decide(self, book: MarketBook, selection: int) -> None:
        runner = book.runner(selection)
        if runner is None:
            return
        back, lay = runner.best_back(), runner.best_lay()
        if back is None or lay is None:
            return
        current = {
            o.bet_id: o for o in await self.port.list_current_orders(market_ids=[self.market_id])
        }
        # BACK orders rest among the lay offers; LAY orders among the back offers
        for side, touch in ((Side.BACK, lay[0]), (Side.LAY, back[0])):
            working = self.state.working.get(side)
            live = current.get(working.bet_id) if working else None
            if live is None or live.size_remaining <= 0:
                bet_id = await self.place(selection, side, touch, Persistence.PERSIST)
                if bet_id:
                    self.state.working[side] = Working(bet_id, touch)
                else:
                    self.state.working.pop(side, None)
            elif working is not None and abs(working.price - touch) > 1e-9:
                [report] = await self.port.replace_orders(self.market_id, [(working.bet_id, touch)])
                self.state.replaces += 1
                if report.place is not None and report.place.bet_id:
                    self.state.working[side] = Working(report.place.bet_id, touch)
                else:
                    self.state.working.pop(side, None)


class AggressiveStrategy(Strategy):
    name = "aggressive"

    async def decide(self, book: MarketBook, selection: int) -> None:
        runner = book.runner(selection)
        if runner is None or runner.ltp is None:
            return
        previous, self.state.last_ltp = self.state.last_ltp, runner.ltp
        if previous is None or runner.ltp == previous:
            return
        back, lay = runner.best_back(), runner.best_lay()
        if runner.ltp < previous and back is not None:
            await self.place(selection, Side.BACK, back[0], Persistence.LAPSE)
        elif runner.ltp > previous and lay is not None:
            await self.place(selection, Side.LAY, lay[0], Persistence.LAPSE)


async def replay(
    path: Path, strategy_cls: Callable[[BetfairBetting, str], Strategy], config: SimExchangeConfig
) -> dict[str, Any]:
    clock = ManualClock(0)
    sim = SimExchange(config, clock)
    port = BetfairBetting(InProcessTransport(sim, json_roundtrip=False))
    processor = StreamProcessor(MarketCache(record_level_changes=True))
    strategy: Strategy | None = None
    messages = 0
    started = time.perf_counter()
    for record in HistoricalReader(path):
        message = record.message
        if not isinstance(message, ChangeMessage) or record.pt is None:
            processor.process(message)
            continue
        clock.now_ms = max(clock.now_ms, record.pt)
        sim.advance(clock.now_ms)  # orders due by now meet the book as it was
        for update in processor.process(message):
            messages += 1
            sim.on_market_update(update)
            if strategy is None:
                strategy = strategy_cls(port, update.market_id)
            await strategy.on_book(update.book, clock.now_ms)
    elapsed = time.perf_counter() - started
    orders = list(sim.all_orders())
    placed = sum(o.size for o in orders)
    matched = sum(o.size_matched for o in orders)
    market_id = strategy.market_id if strategy else ""
    gross, commission = sim.settlement_of(market_id)
    return {
        "orders": len(orders),
        "orders_with_fill": sum(1 for o in orders if o.size_matched > 0),
        "stake_placed": round(placed, 2),
        "stake_matched": round(matched, 2),
        "fill_ratio": round(matched / placed, 4) if placed else 0.0,
        "matched_on_arrival": round(sum(o.matched_on_arrival for o in orders), 2),
        "matched_by": {k: round(v, 2) for k, v in sim.matched_by.items()},
        "lapsed": round(sum(o.size_lapsed for o in orders), 2),
        "gross_pnl": gross,
        "commission": commission,
        "net_pnl": round(sim.balance - config.starting_balance, 2),
        "replaces": strategy.state.replaces if strategy else 0,
        "updates": messages,
        "seconds": round(elapsed, 2),
    }


async def journal_commit_ms(synchronous: str, commits: int = 200) -> float:
    """Median wall time of one intent commit (one transaction, events + orders rows)."""
    with tempfile.TemporaryDirectory(prefix="courtside-journal-") as folder:
        journal = await Journal.open(Path(folder) / "j.sqlite", synchronous=synchronous)
        times = []
        for n in range(commits):
            order = JournalOrder(
                f"cs-{n}",
                "1.1",
                1,
                "BACK",
                2.0,
                10.0,
                "LAPSE",
                "s",
                f"d{n}",
                OrderState.INTENT,
                n,
                n,
                size_remaining=10.0,
            )
            started = time.perf_counter()
            await journal.insert_order(order, "intent", {"decision_id": f"d{n}"})
            times.append((time.perf_counter() - started) * 1000)
        await journal.close()
    return round(statistics.median(times), 3)


def machine() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def run_flumine_peer(python: str, path: Path) -> list[dict[str, Any]]:
    """The passive strategy on flumine (its own venv), default and with available prices."""
    script = Path(__file__).with_name("execution_flumine_peer.py")
    rows = []
    for extra in ([], ["--available-prices"]):
        done = subprocess.run(
            [python, str(script), str(path), *extra],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


async def run(path: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"file": path.name, "machine": machine(), "runs": []}
    results["journal_commit_ms_median"] = {
        mode: await journal_commit_ms(mode) for mode in ("FULL", "NORMAL")
    }
    strategies: Sequence[tuple[str, Callable[[BetfairBetting, str], Strategy]]] = (
        ("passive", PassiveStrategy),
        ("aggressive", AggressiveStrategy),
    )
    for strategy_name, strategy_cls in strategies:
        for realism, overrides in REALISM.items():
            config = SimExchangeConfig(**overrides)
            outcome = await replay(path, strategy_cls, config)
            results["runs"].append({"strategy": strategy_name, "realism": realism, **outcome})
    return results


def table(results: dict[str, Any]) -> str:
    head = (
        "| strategy | simulator | orders | filled orders | matched / placed | matched on arrival "
        "| lapsed | gross P&L | commission | net P&L |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )

    def money(row: dict[str, Any], key: str) -> str:
        return f"£{row[key]:.0f}" if key in row else "—"

    rows = [
        f"| {r['strategy']} | {r['realism']} | {r['orders']} | {r['orders_with_fill']} | "
        f"£{r['stake_matched']:.0f} / £{r['stake_placed']:.0f} ({100 * r['fill_ratio']:.0f}%) | "
        f"{money(r, 'matched_on_arrival')} | {money(r, 'lapsed')} | {r['gross_pnl']:+.2f} | "
        f"{r['commission']:.2f} | {r['net_pnl']:+.2f} |"
        for r in results["runs"]
    ]
    return head + "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--flumine-python", default="", help="python of the benchmark venv: add flumine's rows"
    )
    args = parser.parse_args(argv)
    configure_logging("ERROR", json=True)
    results = asyncio.run(run(args.file))
    if args.flumine_python:
        results["runs"].extend(run_flumine_peer(args.flumine_python, args.file))
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    else:
        sys.stdout.write(table(results))
        sys.stdout.write(json.dumps(results["journal_commit_ms_median"]) + "\n")
        sys.stdout.write(json.dumps(results["machine"]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
