"""The simulated exchange: Betfair betting semantics over a recorded (or live) market book.

Paper trading, the demo and replay share it. It speaks Betfair's betting JSON shapes (params in,
result dicts out) so the HTTP routes and the in-process transport are thin, and the daemon's live
code path (betting adapter → JSON) runs against it unchanged.

Time comes only from the injected clock (epoch ms); randomness only from the seeded generator;
so a replay is deterministic. What it models (see queue.py for the queue model):
- crossing orders take displayed liquidity at the best prices first, net of what we already took;
- a resting order's queue position advances with trades and cancellations at its price, and it
  fills when the market trades at or through its price or the book crosses it;
- every order is processed `latency_ms` after it is sent, plus `marketDefinition.betDelay`
  seconds when the market is in play; it is then checked against the book *at that moment*, so a
  price that moved away during the delay means it rests (or lapses if the market suspended);
- LAPSE orders lapse on suspension and at the in-play turn; orders in delay lapse on suspension;
- at CLOSED with WINNER/LOSER runners: unmatched orders lapse, matched bets settle and commission
  (`marketBaseRate` %) is charged on each market's net winnings.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from adapters.simexchange.config import SimExchangeConfig
from adapters.simexchange.matching import (
    apply_cancellations,
    apply_trades,
    cap_queues,
    cross_resting,
    crosses,
    queue_ahead_on_arrival,
    take,
)
from adapters.simexchange.orders import SIZE_EPS, SimOrder, iso_ms
from adapters.simexchange.queue import ConsumedLiquidity, LevelKey
from adapters.simexchange.settlement import SettledBet, settle_orders
from adapters.simexchange.wire import (
    LimitInstruction,
    cleared_order_line,
    current_orders_page,
    failure_report,
    order_stream_changes,
    parse_limit_instruction,
    place_instruction_report,
)
from engine.execution.positions import OutcomeBook, Settlement
from engine.execution.types import ExchangeOrderStatus, Persistence, Side
from engine.logs import get_logger
from engine.market import MarketBook, MarketUpdate

log = get_logger("simexchange")

_BET_ID_BASE = 300_000_000_000


class SimApiError(Exception):
    """A whole-request failure (Betfair's APINGException), e.g. INVALID_INPUT_DATA."""

    def __init__(self, error_code: str, message: str = "") -> None:
        super().__init__(f"{error_code}: {message}" if message else error_code)
        self.error_code = error_code


def _passive_exempt(book: MarketBook, order: LimitInstruction) -> bool:
    """Betfair's PASSIVE bet-delay model (`marketDefinition.betDelayModels`): an order that
    would not match on arrival is not delayed."""
    models = (book.definition or {}).get("betDelayModels") or ()
    if "PASSIVE" not in models:
        return False
    runner = book.runner(order.selection_id, order.handicap)
    if runner is None:
        return False
    best = runner.best_back() if order.side is Side.BACK else runner.best_lay()
    return best is None or not crosses(order.side, order.price, best[0])


class SimExchange:
    """Matching engine, account and settlement for any number of markets."""

    def __init__(self, config: SimExchangeConfig, clock: Callable[[], int]) -> None:
        self.config = config
        self._clock = clock
        self._rng = random.Random(config.seed)
        self.books: dict[str, MarketBook] = {}
        self._status: dict[str, tuple[str | None, bool | None]] = {}
        self.orders: dict[str, SimOrder] = {}
        self._resting: dict[str, list[SimOrder]] = {}
        self._pending: list[SimOrder] = []
        self._liquidity = ConsumedLiquidity()
        self._customer_refs: dict[str, int] = {}
        self._next_bet = 0
        self.balance = config.starting_balance
        self.settled: dict[str, list[SettledBet]] = {}
        self.commission_paid = 0.0
        self.settlements: dict[str, Settlement] = {}
        self._changed: dict[str, SimOrder] = {}
        # matched stake by how it matched: on arrival, by trades at/through the price, by the book
        # crossing a resting order
        self.matched_by: dict[str, float] = {"arrival": 0.0, "trades": 0.0, "book_crossing": 0.0}
        self.counters: dict[str, int] = {
            "placed": 0,
            "rejected": 0,
            "lapsed_on_suspend": 0,
            "cancel_events": 0,
            "duplicates": 0,
        }

    # -- market data ----------------------------------------------------------------------
    def now(self) -> int:
        return self._clock()

    def on_market_update(self, update: MarketUpdate) -> None:
        """Apply one cache update: status transitions, trades, cancellations, crossings."""
        book = update.book
        market_id = update.market_id
        self.books[market_id] = book
        if update.image:
            self._liquidity.reset_market(market_id)
        previous_status, previous_inplay = self._status.get(market_id, (None, None))
        self._status[market_id] = (book.status, book.inplay)
        self.advance(self.now())
        if book.status == "CLOSED" and previous_status != "CLOSED":
            self._settle(book)
            return
        if book.status == "SUSPENDED" and previous_status != "SUSPENDED":
            self._lapse(market_id, suspended=True)
        if book.inplay and previous_inplay is False:
            self._lapse(market_id, suspended=False)
        traded: dict[tuple[int, float], float] = {}
        for trade in update.trades:
            if trade.volume > 0:
                at = (trade.runner[0], trade.price)
                traded[at] = traded.get(at, 0.0) + trade.volume / self.config.traded_volume_divisor
        resting = self._resting.get(market_id, [])
        now = self.now()
        matched_before = sum(o.size_matched for o in resting)
        if resting and traded:
            for order in apply_trades(
                resting,
                traded,
                queue_position=self.config.queue_position,
                now_ms=now,
                through_fills=self.config.trade_through_fills,
            ):
                self._changed[order.bet_id] = order
        for change in update.level_changes or ():
            selection_id = change.runner[0]
            level: LevelKey = (market_id, selection_id, change.side, change.price)
            self._liquidity.on_level_change(level, change.old_size, change.new_size)
            if not resting or not self.config.queue_position:
                continue
            explained = traded.get((selection_id, change.price), 0.0)
            cancelled = change.old_size - change.new_size - explained
            if cancelled > SIZE_EPS:
                self.counters["cancel_events"] += apply_cancellations(
                    resting,
                    (selection_id, change.side, change.price),
                    displayed_before=change.old_size,
                    cancelled=cancelled,
                    model=self.config.cancel_model,
                    rng=self._rng,
                )
        if resting and book.status == "OPEN":
            if self.config.queue_position:
                cap_queues(book, resting)
            after_trades = sum(o.size_matched for o in resting)
            self.matched_by["trades"] += after_trades - matched_before
            if self.config.book_crossing_fills:
                for order in cross_resting(book, resting, self._liquidity, now):
                    self._changed[order.bet_id] = order
            self.matched_by["book_crossing"] += sum(o.size_matched for o in resting) - after_trades
        self._prune(market_id)

    def advance(self, now_ms: int) -> None:
        """Process orders whose latency/bet delay has elapsed by `now_ms`."""
        if not self._pending:
            return
        due = [o for o in self._pending if o.active_ms <= now_ms]
        if not due:
            return
        self._pending = [o for o in self._pending if o.active_ms > now_ms]
        for order in due:
            self._activate(order)

    # -- account --------------------------------------------------------------------------
    def _market_exposure(self, market_id: str, extra: SimOrder | None = None) -> float:
        book = OutcomeBook()
        for order in self.orders.values():
            if order.market_id != market_id or market_id in self.settled:
                continue
            if order.size_matched > 0:
                book.add_matched(
                    order.selection_id, order.side, order.average_price_matched, order.size_matched
                )
            if order.size_remaining > 0:
                book.add_unmatched_worst(
                    order.selection_id, order.side, order.price, order.size_remaining
                )
        if extra is not None:
            book.add_unmatched_worst(extra.selection_id, extra.side, extra.price, extra.size)
        market = self.books.get(market_id)
        runners = tuple(r.selection_id for r in market) if market is not None else ()
        return book.worst_case(runners)

    def exposure(self) -> float:
        markets = {o.market_id for o in self.orders.values() if o.market_id not in self.settled}
        return sum(self._market_exposure(m) for m in markets)

    def available_to_bet(self) -> float:
        return self.balance - self.exposure()

    # -- placing --------------------------------------------------------------------------
    def place_orders(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """placeOrders: Betfair's PlaceExecutionReport as a dict."""
        now = self.now()
        self.advance(now)
        market_id = params.get("marketId")
        instructions = params.get("instructions")
        if not isinstance(market_id, str) or not isinstance(instructions, list) or not instructions:
            raise SimApiError("INVALID_INPUT_DATA", "marketId and instructions are required")
        customer_ref = params.get("customerRef")
        base = {"marketId": market_id, **({"customerRef": customer_ref} if customer_ref else {})}
        if customer_ref is not None and self.config.dedupe_customer_ref:
            seen = self._customer_refs.get(str(customer_ref))
            if seen is not None and now - seen <= self.config.dedupe_window_s * 1000:
                self.counters["duplicates"] += 1
                return self._refuse(base, "DUPLICATE_TRANSACTION", instructions, "ERROR_IN_ORDER")
            self._customer_refs[str(customer_ref)] = now
        book = self.books.get(market_id)
        if book is None:
            return self._refuse(base, "INVALID_MARKET_ID", instructions, "ERROR_IN_ORDER")
        if book.status == "SUSPENDED":
            return self._refuse(base, "MARKET_SUSPENDED", instructions, "ERROR_IN_ORDER")
        if book.status != "OPEN":
            return self._refuse(base, "MARKET_NOT_OPEN_FOR_BETTING", instructions, "ERROR_IN_ORDER")
        checked = [
            parse_limit_instruction(
                ins,
                book,
                min_stake=self.config.min_stake,
                min_bet_payout=self.config.min_bet_payout,
            )
            for ins in instructions
        ]
        if any(isinstance(c, str) for c in checked):
            self.counters["rejected"] += len(instructions)
            reports = [
                {
                    "status": "FAILURE",
                    "errorCode": c if isinstance(c, str) else "ERROR_IN_ORDER",
                    "instruction": ins,
                }
                for ins, c in zip(instructions, checked, strict=True)
            ]
            return {
                **base,
                "status": "FAILURE",
                "errorCode": "BET_ACTION_ERROR",
                "instructionReports": reports,
            }
        parsed = [self._new_order(market_id, book, c) for c in checked if not isinstance(c, str)]
        added = 0.0
        for order in parsed:
            added += self._market_exposure(market_id, order) - self._market_exposure(market_id)
        if added > self.available_to_bet() + 1e-6:
            return self._refuse(base, "INSUFFICIENT_FUNDS", instructions, "ERROR_IN_ORDER")
        reports = []
        for instruction, order in zip(instructions, parsed, strict=True):
            self.orders[order.bet_id] = order
            self.counters["placed"] += 1
            if order.active_ms <= now:
                self._activate(order)
            else:
                self._pending.append(order)
            reports.append(place_instruction_report(instruction, order))
        return {**base, "status": "SUCCESS", "instructionReports": reports}

    def _refuse(
        self, base: dict[str, Any], code: str, instructions: list[Any], instruction_code: str
    ) -> dict[str, Any]:
        self.counters["rejected"] += len(instructions)
        return failure_report(base, code, instructions, instruction_code)

    def _new_order(self, market_id: str, book: MarketBook, parsed: LimitInstruction) -> SimOrder:
        self._next_bet += 1
        now = self.now()
        delay_ms = 0
        if self.config.bet_delay and book.inplay and book.bet_delay:
            delay_ms = int(book.bet_delay) * 1000
            if _passive_exempt(book, parsed):
                delay_ms = 0
        return SimOrder(
            bet_id=str(_BET_ID_BASE + self._next_bet),
            market_id=market_id,
            selection_id=parsed.selection_id,
            handicap=parsed.handicap,
            side=parsed.side,
            price=parsed.price,
            size=parsed.size,
            persistence=parsed.persistence,
            customer_order_ref=parsed.customer_order_ref,
            customer_strategy_ref=parsed.customer_strategy_ref,
            placed_ms=now,
            active_ms=now + self.config.latency_ms + delay_ms,
        )

    def _activate(self, order: SimOrder) -> None:
        """The order reaches the matcher: cross what it can, rest the remainder."""
        if order.status is ExchangeOrderStatus.EXECUTION_COMPLETE:
            return
        book = self.books.get(order.market_id)
        runner = book.runner(order.selection_id, order.handicap) if book is not None else None
        if book is None or book.status != "OPEN" or runner is None:
            order.lapse()
            self._changed[order.bet_id] = order
            return
        take(order, runner, self._liquidity, maker=False, now_ms=self.now())
        order.matched_on_arrival = order.size_matched
        self.matched_by["arrival"] += order.size_matched
        if order.size_remaining > SIZE_EPS:
            order.status = ExchangeOrderStatus.EXECUTABLE
            resting = self._resting.setdefault(order.market_id, [])
            if self.config.queue_position:
                order.ahead = queue_ahead_on_arrival(order, runner, resting)
            resting.append(order)
        self._changed[order.bet_id] = order

    def _prune(self, market_id: str) -> None:
        resting = self._resting.get(market_id)
        if resting:
            self._resting[market_id] = [
                o for o in resting if o.status is ExchangeOrderStatus.EXECUTABLE
            ]

    def _lapse(self, market_id: str, *, suspended: bool) -> None:
        """Suspension lapses LAPSE orders and anything in bet delay; the in-play turn lapses
        LAPSE orders (PERSIST orders carry over into in-play)."""
        for order in self.orders.values():
            if order.market_id != market_id or order.size_remaining <= SIZE_EPS:
                continue
            in_delay = order.status is ExchangeOrderStatus.PENDING
            if order.persistence is Persistence.LAPSE or (suspended and in_delay):
                order.lapse()
                self.counters["lapsed_on_suspend"] += int(suspended)
                self._changed[order.bet_id] = order
        if suspended:
            self._pending = [o for o in self._pending if o.status is ExchangeOrderStatus.PENDING]
        self._prune(market_id)

    # -- settlement -----------------------------------------------------------------------
    def _settle(self, book: MarketBook) -> None:
        market_id = book.market_id
        winners = [r.selection_id for r in book if r.status == "WINNER"]
        winner = winners[0] if len(winners) == 1 else None
        orders = [o for o in self.orders.values() if o.market_id == market_id]
        for order in orders:
            if order.size_remaining > SIZE_EPS:
                order.lapse()
                self._changed[order.bet_id] = order
        rate = (book.market_base_rate or 0.0) / 100.0
        bets, settlement = settle_orders(market_id, orders, winner, rate, self.now())
        self.balance += settlement.net
        self.commission_paid += settlement.commission
        self.settled[market_id] = bets
        self.settlements[market_id] = settlement
        self._resting.pop(market_id, None)
        self._pending = [o for o in self._pending if o.market_id != market_id]
        log.info(
            "market_settled",
            market_id=market_id,
            winner=winner,
            gross=settlement.gross,
            commission=settlement.commission,
        )

    def settlement_of(self, market_id: str) -> tuple[float, float]:
        """(gross P&L, commission) of a settled market ((0, 0) before settlement)."""
        settlement = self.settlements.get(market_id)
        return (settlement.gross, settlement.commission) if settlement else (0.0, 0.0)

    # -- cancel / replace -----------------------------------------------------------------
    def cancel_orders(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """cancelOrders: with no instructions, cancels everything on the market (or everywhere)."""
        self.advance(self.now())
        market_id = params.get("marketId")
        instructions = params.get("instructions")
        base: dict[str, Any] = {"marketId": market_id} if market_id else {}
        if params.get("customerRef"):
            base["customerRef"] = params["customerRef"]
        if not instructions:
            targets = [
                o
                for o in self.orders.values()
                if (market_id is None or o.market_id == market_id)
                and o.status is ExchangeOrderStatus.EXECUTABLE
            ]
            instructions = [{"betId": o.bet_id} for o in targets]
        reports = [self._cancel_one(market_id, ins) for ins in instructions]
        failed = any(r["status"] == "FAILURE" for r in reports)
        result = {
            **base,
            "status": "FAILURE" if failed else "SUCCESS",
            "instructionReports": reports,
        }
        if failed:
            result["errorCode"] = "BET_ACTION_ERROR"
        return result

    def _cancel_one(self, market_id: Any, instruction: Any) -> dict[str, Any]:
        bet_id = str(instruction.get("betId", "")) if isinstance(instruction, dict) else ""
        order = self.orders.get(bet_id)
        if order is None or (market_id is not None and order.market_id != market_id):
            return {"status": "FAILURE", "errorCode": "INVALID_BET_ID", "instruction": instruction}
        if order.status is ExchangeOrderStatus.PENDING:
            return {"status": "FAILURE", "errorCode": "BET_IN_PROGRESS", "instruction": instruction}
        if order.size_remaining <= SIZE_EPS:
            return {
                "status": "FAILURE",
                "errorCode": "BET_TAKEN_OR_LAPSED",
                "instruction": instruction,
            }
        reduction = instruction.get("sizeReduction")
        cancelled = order.cancel(float(reduction) if reduction is not None else None)
        self._changed[order.bet_id] = order
        self._prune(order.market_id)
        return {
            "status": "SUCCESS",
            "instruction": instruction,
            "sizeCancelled": cancelled,
            "cancelledDate": iso_ms(self.now()),
        }

    def replace_orders(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """replaceOrders: cancel each bet's remainder, place it again at the new price.

        The new bet keeps the old bet's customerOrderRef, persistence and side.
        """
        market_id = params.get("marketId")
        instructions = params.get("instructions")
        if not isinstance(market_id, str) or not isinstance(instructions, list) or not instructions:
            raise SimApiError("INVALID_INPUT_DATA", "marketId and instructions are required")
        reports: list[dict[str, Any]] = []
        failed = False
        for instruction in instructions:
            bet_id = str(instruction.get("betId", "")) if isinstance(instruction, dict) else ""
            new_price = instruction.get("newPrice") if isinstance(instruction, dict) else None
            order = self.orders.get(bet_id)
            cancel = self._cancel_one(market_id, {"betId": bet_id})
            if cancel["status"] != "SUCCESS" or order is None:
                failed = True
                reports.append(
                    {
                        "status": "FAILURE",
                        "errorCode": "CANCELLED_NOT_PLACED",
                        "cancelInstructionReport": cancel,
                    }
                )
                continue
            place = self.place_orders(
                {
                    "marketId": market_id,
                    "instructions": [
                        {
                            "selectionId": order.selection_id,
                            "handicap": order.handicap,
                            "side": order.side.value,
                            "orderType": "LIMIT",
                            "limitOrder": {
                                "size": cancel["sizeCancelled"],
                                "price": new_price,
                                "persistenceType": order.persistence.value,
                            },
                            "customerOrderRef": order.customer_order_ref or None,
                        }
                    ],
                }
            )
            place_report = place["instructionReports"][0]
            ok = place["status"] == "SUCCESS"
            failed |= not ok
            reports.append(
                {
                    "status": "SUCCESS" if ok else "FAILURE",
                    **({} if ok else {"errorCode": place.get("errorCode", "ERROR_IN_ORDER")}),
                    "cancelInstructionReport": cancel,
                    "placeInstructionReport": place_report,
                }
            )
        result = {
            "marketId": market_id,
            "status": "FAILURE" if failed else "SUCCESS",
            "instructionReports": reports,
        }
        if failed:
            result["errorCode"] = "BET_ACTION_ERROR"
        return result

    # -- queries --------------------------------------------------------------------------
    def list_current_orders(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """listCurrentOrders: every order of unsettled markets (executable and complete)."""
        self.advance(self.now())
        live = (o for o in self.orders.values() if o.market_id not in self.settled)
        return current_orders_page(live, params)

    def list_cleared_orders(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """listClearedOrders (SETTLED): one line per settled bet."""
        markets = set(params.get("marketIds") or ())
        lines = [
            cleared_order_line(bet)
            for market_id, bets in self.settled.items()
            if not markets or market_id in markets
            for bet in bets
        ]
        return {"clearedOrders": lines, "moreAvailable": False}

    def drain_changes(self) -> list[SimOrder]:
        """Orders changed since the last call (for an order-stream feed or a paper-trading loop)."""
        changed = list(self._changed.values())
        self._changed.clear()
        return changed

    def drain_order_stream_changes(self) -> list[dict[str, Any]]:
        """The changes since the last call as Exchange Stream `oc` entries (delta rows)."""
        return order_stream_changes(self.drain_changes(), full_image=False)

    def order_stream_image(self) -> list[dict[str, Any]]:
        """Every order of unsettled markets as `oc` entries (an order-subscription image)."""
        live = [o for o in self.orders.values() if o.market_id not in self.settled]
        return order_stream_changes(live, full_image=True)

    def all_orders(self) -> Iterable[SimOrder]:
        return self.orders.values()
