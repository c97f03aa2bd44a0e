"""Order-stream (`ocm`) changes as `CurrentOrder`s: the order manager's source of truth.

An `oc` entry is one market: ``{"id": marketId, "orc": [{"id": selectionId, "hc": handicap,
"uo": [unmatched-order rows]}]}``; each `uo` row carries the whole current state of one bet (id,
p, s, side B/L, status E/EC, pt L/P/MOC, pd, avp, sm, sr, sl, sc, sv, rfo = customerOrderRef), so a
row maps to one `CurrentOrder` without keeping any state. Malformed rows are counted and logged
by the caller, never raised past it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.execution.types import CurrentOrder, ExchangeOrderStatus, Persistence, Side
from engine.logs import get_logger

log = get_logger("execution.order_stream")

_SIDES = {"B": Side.BACK, "L": Side.LAY}
_STATUS = {"E": ExchangeOrderStatus.EXECUTABLE, "EC": ExchangeOrderStatus.EXECUTION_COMPLETE}
_PERSISTENCE = {
    "L": Persistence.LAPSE,
    "P": Persistence.PERSIST,
    "MOC": Persistence.MARKET_ON_CLOSE,
}


@dataclass(slots=True)
class OrderStreamResult:
    """Orders read from one message, plus the rows that could not be read."""

    orders: list[CurrentOrder] = field(default_factory=list)
    malformed: int = 0
    closed_markets: list[str] = field(default_factory=list)


def order_from_row(market_id: str, selection_id: int, row: Mapping[str, Any]) -> CurrentOrder:
    """One `uo` row; raises KeyError/TypeError/ValueError when malformed."""
    size_matched = float(row.get("sm") or 0.0)
    return CurrentOrder(
        bet_id=str(row["id"]),
        market_id=market_id,
        selection_id=selection_id,
        side=_SIDES[row["side"]],
        price=float(row["p"]),
        size=float(row["s"]),
        status=_STATUS[row["status"]],
        customer_order_ref=str(row.get("rfo") or ""),
        persistence=_PERSISTENCE.get(str(row.get("pt")), Persistence.LAPSE),
        size_matched=size_matched,
        average_price_matched=float(row.get("avp") or 0.0) if size_matched else 0.0,
        size_remaining=float(row.get("sr") or 0.0),
        size_cancelled=float(row.get("sc") or 0.0),
        size_lapsed=float(row.get("sl") or 0.0),
        size_voided=float(row.get("sv") or 0.0),
        placed_ms=int(row.get("pd") or 0),
    )


def read_order_changes(changes: Iterable[Any]) -> OrderStreamResult:
    """Every order in an `ocm` message's `oc` list."""
    result = OrderStreamResult()
    for market in changes:
        if not isinstance(market, dict) or not isinstance(market.get("id"), str):
            result.malformed += 1
            continue
        market_id = market["id"]
        if market.get("closed"):
            result.closed_markets.append(market_id)
        for runner in market.get("orc") or ():
            try:
                selection_id = int(runner["id"])
                rows = runner.get("uo") or ()
            except (KeyError, TypeError, ValueError, AttributeError):
                result.malformed += 1
                continue
            for row in rows:
                try:
                    result.orders.append(order_from_row(market_id, selection_id, row))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    result.malformed += 1
                    log.warning("malformed_order_row", market_id=market_id, error=repr(exc))
    return result
