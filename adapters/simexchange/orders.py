"""The simulated exchange's order record and its Betfair wire views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.execution.types import ExchangeOrderStatus, Persistence, Side

SIZE_EPS = 1e-9


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as Betfair's ISO-8601 UTC timestamp."""
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(slots=True)
class SimOrder:
    """One bet inside the simulator.

    `ahead` is the size queued in front of the order at its price (queue position); `column` is the
    ladder column the order rests in: a BACK rests among the offers to lay ("L", atl), a LAY among
    the offers to back ("B", atb).
    """

    bet_id: str
    market_id: str
    selection_id: int
    handicap: float
    side: Side
    price: float
    size: float
    persistence: Persistence
    customer_order_ref: str
    customer_strategy_ref: str
    placed_ms: int
    active_ms: int
    status: ExchangeOrderStatus = ExchangeOrderStatus.PENDING
    ahead: float = 0.0
    fills: list[tuple[float, float]] = field(default_factory=list)
    size_matched: float = 0.0
    matched_value: float = 0.0
    size_cancelled: float = 0.0
    size_lapsed: float = 0.0
    size_voided: float = 0.0
    matched_ms: int = 0
    matched_on_arrival: float = 0.0

    @property
    def column(self) -> str:
        return "L" if self.side is Side.BACK else "B"

    @property
    def size_remaining(self) -> float:
        if self.status is ExchangeOrderStatus.EXECUTION_COMPLETE:
            return 0.0
        remaining = (
            self.size
            - self.size_matched
            - self.size_cancelled
            - self.size_lapsed
            - self.size_voided
        )
        return round(max(0.0, remaining), 2)

    @property
    def average_price_matched(self) -> float:
        return self.matched_value / self.size_matched if self.size_matched > SIZE_EPS else 0.0

    def fill(self, price: float, size: float, now_ms: int) -> float:
        """Match `size` at `price` (pennies, never more than remains); returns what matched."""
        size = round(min(size, self.size_remaining), 2)
        if size <= SIZE_EPS:
            return 0.0
        self.fills.append((price, size))
        self.size_matched = round(self.size_matched + size, 2)
        self.matched_value += price * size
        self.matched_ms = now_ms
        if self.size_remaining <= SIZE_EPS:
            self.status = ExchangeOrderStatus.EXECUTION_COMPLETE
        return size

    def lapse(self) -> float:
        remaining = self.size_remaining
        self.size_lapsed = round(self.size_lapsed + remaining, 2)
        self.status = ExchangeOrderStatus.EXECUTION_COMPLETE
        return remaining

    def cancel(self, reduction: float | None = None) -> float:
        remaining = self.size_remaining
        amount = remaining if reduction is None else round(min(reduction, remaining), 2)
        self.size_cancelled = round(self.size_cancelled + amount, 2)
        if self.size_remaining <= SIZE_EPS:
            self.status = ExchangeOrderStatus.EXECUTION_COMPLETE
        return amount

    def current_order_json(self) -> dict[str, Any]:
        """A CurrentOrderSummary as listCurrentOrders returns it."""
        return {
            "betId": self.bet_id,
            "marketId": self.market_id,
            "selectionId": self.selection_id,
            "handicap": self.handicap,
            "priceSize": {"price": self.price, "size": self.size},
            "bspLiability": 0.0,
            "side": self.side.value,
            "status": self.status.value,
            "persistenceType": self.persistence.value,
            "orderType": "LIMIT",
            "placedDate": iso_ms(self.placed_ms),
            "matchedDate": iso_ms(self.matched_ms) if self.matched_ms else None,
            "averagePriceMatched": round(self.average_price_matched, 4),
            "sizeMatched": self.size_matched,
            "sizeRemaining": self.size_remaining,
            "sizeLapsed": self.size_lapsed,
            "sizeCancelled": self.size_cancelled,
            "sizeVoided": self.size_voided,
            "regulatorCode": "SIMULATED",
            "customerOrderRef": self.customer_order_ref or None,
            "customerStrategyRef": self.customer_strategy_ref or None,
        }
