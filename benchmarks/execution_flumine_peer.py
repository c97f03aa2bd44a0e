"""Peer for bench_execution_realism.py: the same passive strategy on flumine's simulated exchange.

Runs in the benchmark venv (benchmarks/setup_bench_venv.sh), not in the product's:
    /work/bench-venv/bin/python benchmarks/execution_flumine_peer.py [--available-prices] [FILE]

The strategy mirrors bench_execution_realism.PassiveStrategy: in play, on the favourite, £10,
every 20 s of market time keep a BACK at the best lay price and a LAY at the best back price,
moving an order the market has left (flumine: cancel + new order; ours: replaceOrders, which is a
cancel + new order on the exchange too). `--available-prices` turns on flumine's
`simulation_available_prices` (fill a resting order when the book crosses it; off by default).
Prints one JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

DEFAULT_FILE = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
)
DECISION_EVERY_MS = 20_000
STAKE = 10.0


def run(path: Path, available_prices: bool) -> dict[str, Any]:
    from flumine import BaseStrategy, FlumineSimulation, clients
    from flumine import config as flumine_config
    from flumine.order.order import OrderStatus
    from flumine.order.ordertype import LimitOrder
    from flumine.order.trade import Trade
    from flumine.streams.betfairhistoricalstream import BetfairHistoricalStream

    logging.disable(logging.CRITICAL)
    flumine_config.simulation_available_prices = available_prices

    class Passive(BaseStrategy):  # type: ignore[misc]
        def start(self, flumine: Any = None) -> None:
            self.next_ms = 0
            self.selection: int | None = None
            self.working: dict[str, Any] = {}
            self.orders: list[Any] = []

        def check_market_book(self, market: Any, market_book: Any) -> bool:
            return market_book.status == "OPEN" and bool(market_book.inplay)

        def process_market_book(self, market: Any, market_book: Any) -> None:
            pt = market_book.publish_time_epoch
            if pt < self.next_ms:
                return
            self.next_ms = pt + DECISION_EVERY_MS
            if self.selection is None:
                runners = [
                    r for r in market_book.runners if r.status == "ACTIVE" and r.last_price_traded
                ]
                self.selection = min(runners, key=lambda r: r.last_price_traded).selection_id
            runner = next(r for r in market_book.runners if r.selection_id == self.selection)
            if not runner.ex.available_to_back or not runner.ex.available_to_lay:
                return
            back = runner.ex.available_to_back[0]["price"]
            lay = runner.ex.available_to_lay[0]["price"]
            for side, touch in (("BACK", lay), ("LAY", back)):
                order = self.working.get(side)
                live = (
                    order is not None
                    and order.status == OrderStatus.EXECUTABLE
                    and order.size_remaining > 0
                )
                if order is not None and live:
                    if order.order_type.price == touch:
                        continue
                    market.cancel_order(order)
                trade = Trade(
                    market_id=market_book.market_id,
                    selection_id=self.selection,
                    handicap=0,
                    strategy=self,
                )
                new = trade.create_order(
                    side=side,
                    order_type=LimitOrder(price=touch, size=STAKE, persistence_type="PERSIST"),
                )
                market.place_order(new)
                self.working[side] = new
                self.orders.append(new)

    strategy = Passive(
        max_order_exposure=1e6,
        max_selection_exposure=1e9,
        max_live_trade_count=1000,
        max_trade_count=1e9,
    )
    strategy.streams = [BetfairHistoricalStream(file_path=str(path))]
    framework = FlumineSimulation(client=clients.SimulatedClient())
    framework.add_strategy(strategy)
    framework.run()
    orders = strategy.orders
    placed = sum(o.order_type.size for o in orders)
    matched = sum(o.size_matched for o in orders)
    gross = sum(o.simulated.profit for o in orders)
    return {
        "strategy": "passive",
        "realism": "flumine "
        + ("(simulation_available_prices)" if available_prices else "(default settings)"),
        "orders": len(orders),
        "orders_with_fill": sum(1 for o in orders if o.size_matched > 0),
        "stake_placed": round(placed, 2),
        "stake_matched": round(matched, 2),
        "fill_ratio": round(matched / placed, 4) if placed else 0.0,
        "gross_pnl": round(gross, 2),
        "commission": round(max(0.0, gross) * 0.05, 2),
        "net_pnl": round(gross - max(0.0, gross) * 0.05, 2),
    }


def main(argv: list[str]) -> int:
    available = "--available-prices" in argv
    files = [a for a in argv if not a.startswith("--")]
    path = Path(files[0]) if files else DEFAULT_FILE
    sys.stdout.write(json.dumps(run(path, available)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
