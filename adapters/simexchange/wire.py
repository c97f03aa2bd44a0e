"""Betfair betting JSON shapes for the simulator: instruction parsing and report/query bodies."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.simexchange.orders import SimOrder, iso_ms
from adapters.simexchange.settlement import SettledBet
from engine.execution.types import ExchangeOrderStatus, Persistence, Side
from engine.market import MarketBook
from engine.market.ticks import tick_index_or_none

MAX_REF_LENGTH = 32


@dataclass(frozen=True, slots=True)
class LimitInstruction:
    """A valid LIMIT place instruction."""

    selection_id: int
    handicap: float
    side: Side
    price: float
    size: float
    persistence: Persistence
    customer_order_ref: str
    customer_strategy_ref: str


def _on_pennies(value: float) -> bool:
    return abs(value * 100 - round(value * 100)) <= 1e-6


def parse_limit_instruction(
    instruction: Any, book: MarketBook, *, min_stake: float, min_bet_payout: float
) -> LimitInstruction | str:
    """The instruction, or Betfair's InstructionReportErrorCode for why it is refused."""
    if not isinstance(instruction, dict) or instruction.get("orderType") != "LIMIT":
        return "INVALID_BID_TYPE"
    limit = instruction.get("limitOrder")
    if not isinstance(limit, dict):
        return "INVALID_BID_TYPE"
    try:
        selection_id = int(instruction["selectionId"])
        handicap = float(instruction.get("handicap", 0.0) or 0.0)
        side = Side(instruction["side"])
        price = float(limit["price"])
        size = float(limit["size"])
        persistence = Persistence(limit.get("persistenceType", "LAPSE"))
    except (KeyError, TypeError, ValueError):
        return "INVALID_BID_TYPE"
    runner = book.runner(selection_id, handicap)
    if runner is None or runner.status not in (None, "ACTIVE"):
        return "INVALID_RUNNER"
    if not math.isfinite(price) or tick_index_or_none(price) is None or not _on_pennies(price):
        return "INVALID_ODDS"
    if not math.isfinite(size) or size <= 0 or not _on_pennies(size):
        return "INVALID_BET_SIZE"
    if size < min_stake - 1e-9 and size * price < min_bet_payout:
        return "INVALID_BET_SIZE"
    ref = str(instruction.get("customerOrderRef") or "")
    if len(ref) > MAX_REF_LENGTH:
        return "INVALID_BID_TYPE"
    strategy = str(instruction.get("customerStrategyRef") or "")
    return LimitInstruction(
        selection_id, handicap, side, price, round(size, 2), persistence, ref, strategy
    )


def failure_report(
    base: Mapping[str, Any], code: str, instructions: Iterable[Any], instruction_code: str
) -> dict[str, Any]:
    """A FAILURE execution report where every instruction failed with `instruction_code`."""
    return {
        **base,
        "status": "FAILURE",
        "errorCode": code,
        "instructionReports": [
            {"status": "FAILURE", "errorCode": instruction_code, "instruction": ins}
            for ins in instructions
        ],
    }


def place_instruction_report(instruction: Any, order: SimOrder) -> dict[str, Any]:
    return {
        "status": "SUCCESS",
        "instruction": instruction,
        "betId": order.bet_id,
        "placedDate": iso_ms(order.placed_ms),
        "averagePriceMatched": round(order.average_price_matched, 4),
        "sizeMatched": order.size_matched,
        "orderStatus": order.status.value,
    }


def _wanted(order: SimOrder, params: Mapping[str, Any]) -> bool:
    markets, refs, bet_ids = (
        params.get("marketIds"),
        params.get("customerOrderRefs"),
        params.get("betIds"),
    )
    if markets and order.market_id not in markets:
        return False
    if refs and order.customer_order_ref not in refs:
        return False
    if bet_ids and order.bet_id not in bet_ids:
        return False
    projection = params.get("orderProjection") or "ALL"
    if projection == "EXECUTABLE":
        return order.status is ExchangeOrderStatus.EXECUTABLE
    if projection == "EXECUTION_COMPLETE":
        return order.status is ExchangeOrderStatus.EXECUTION_COMPLETE
    return True


def current_orders_page(orders: Iterable[SimOrder], params: Mapping[str, Any]) -> dict[str, Any]:
    """A CurrentOrderSummaryReport page (fromRecord / recordCount honoured)."""
    selected = [o.current_order_json() for o in orders if _wanted(o, params)]
    start = int(params.get("fromRecord") or 0)
    count = int(params.get("recordCount") or 0) or len(selected)
    return {
        "currentOrders": selected[start : start + count],
        "moreAvailable": start + count < len(selected),
    }


def cleared_order_line(bet: SettledBet) -> dict[str, Any]:
    """One ClearedOrderSummary."""
    order = bet.order
    return {
        "eventTypeId": "2",
        "marketId": order.market_id,
        "selectionId": order.selection_id,
        "handicap": order.handicap,
        "betId": order.bet_id,
        "placedDate": iso_ms(order.placed_ms),
        "persistenceType": order.persistence.value,
        "orderType": "LIMIT",
        "side": order.side.value,
        "betOutcome": bet.outcome,
        "priceRequested": order.price,
        "settledDate": iso_ms(bet.settled_ms),
        "betCount": 1,
        "priceMatched": round(order.average_price_matched, 4),
        "sizeSettled": order.size_matched,
        "profit": bet.profit,
        "customerOrderRef": order.customer_order_ref or None,
    }


_STREAM_PERSISTENCE = {
    Persistence.LAPSE: "L",
    Persistence.PERSIST: "P",
    Persistence.MARKET_ON_CLOSE: "MOC",
}


def order_stream_row(order: SimOrder) -> dict[str, Any]:
    """One order as an Exchange Stream `uo` row (the full current state of the bet)."""
    row: dict[str, Any] = {
        "id": order.bet_id,
        "p": order.price,
        "s": order.size,
        "side": "B" if order.side is Side.BACK else "L",
        "status": "EC" if order.status is ExchangeOrderStatus.EXECUTION_COMPLETE else "E",
        "pt": _STREAM_PERSISTENCE[order.persistence],
        "ot": "L",
        "pd": order.placed_ms,
        "sm": order.size_matched,
        "sr": order.size_remaining,
        "sl": order.size_lapsed,
        "sc": order.size_cancelled,
        "sv": order.size_voided,
        "rac": "",
        "rc": "REG_GGC",
    }
    if order.size_matched:
        row["avp"] = round(order.average_price_matched, 4)
        row["md"] = order.matched_ms
    if order.customer_order_ref:
        row["rfo"] = order.customer_order_ref
    if order.customer_strategy_ref:
        row["rfs"] = order.customer_strategy_ref
    return row


def order_stream_changes(orders: Iterable[SimOrder], *, full_image: bool) -> list[dict[str, Any]]:
    """`oc` entries (one per market, one `orc` per runner) for these orders."""
    markets: dict[str, dict[tuple[int, float], list[dict[str, Any]]]] = {}
    for order in orders:
        runners = markets.setdefault(order.market_id, {})
        runners.setdefault((order.selection_id, order.handicap), []).append(order_stream_row(order))
    changes = []
    for market_id, runners in markets.items():
        orc = []
        for (selection_id, handicap), rows in runners.items():
            runner: dict[str, Any] = {"id": selection_id, "uo": rows}
            if handicap:
                runner["hc"] = handicap
            if full_image:
                runner["fullImage"] = True
            orc.append(runner)
        entry: dict[str, Any] = {"id": market_id, "orc": orc}
        if full_image:
            entry["fullImage"] = True
        changes.append(entry)
    return changes
