"""Order vocabulary shared by the engine, the Betfair betting adapter and the simulated exchange.

These small value types are the contract of the exchange port: the engine speaks only in them, and
each exchange (live Betfair, the simulator) translates to and from its own wire format.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Side(enum.StrEnum):
    """Betfair order side: BACK (bet on) or LAY (bet against)."""

    BACK = "BACK"
    LAY = "LAY"


class Persistence(enum.StrEnum):
    """What happens to the unmatched part when the market turns in-play or suspends."""

    LAPSE = "LAPSE"
    PERSIST = "PERSIST"
    MARKET_ON_CLOSE = "MARKET_ON_CLOSE"


class ExchangeOrderStatus(enum.StrEnum):
    """Betfair's order status as reported by the exchange."""

    PENDING = "PENDING"
    EXECUTABLE = "EXECUTABLE"
    EXECUTION_COMPLETE = "EXECUTION_COMPLETE"


class Outcome(enum.StrEnum):
    """The three things an exchange call can mean for our records.

    DONE: the exchange acted as asked. REJECTED: it definitely did not act (safe to forget or retry
    with a new decision). UNKNOWN: we cannot tell (timeout, connection dropped after sending, an
    instruction TIMEOUT) — the order must be looked up by its customerOrderRef before anything else.
    """

    DONE = "DONE"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class FailureKind(enum.StrEnum):
    """Clear categories for exchange errors (the raw Betfair code travels alongside)."""

    NONE = "NONE"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    MARKET_SUSPENDED = "MARKET_SUSPENDED"
    MARKET_CLOSED = "MARKET_CLOSED"
    INVALID_ORDER = "INVALID_ORDER"
    BET_ACTION_ERROR = "BET_ACTION_ERROR"
    DUPLICATE = "DUPLICATE"
    AUTH = "AUTH"
    THROTTLED = "THROTTLED"
    TIMEOUT = "TIMEOUT"
    TRANSPORT = "TRANSPORT"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One limit order to place: what the order manager journals as the intent."""

    market_id: str
    selection_id: int
    side: Side
    price: float
    size: float
    customer_order_ref: str
    persistence: Persistence = Persistence.LAPSE
    strategy_ref: str = ""
    handicap: float = 0.0


@dataclass(frozen=True, slots=True)
class PlaceReport:
    """The exchange's answer for one place instruction."""

    outcome: Outcome
    customer_order_ref: str
    bet_id: str | None = None
    status: ExchangeOrderStatus | None = None
    size_matched: float = 0.0
    average_price_matched: float = 0.0
    failure: FailureKind = FailureKind.NONE
    error_code: str = ""


@dataclass(frozen=True, slots=True)
class CancelReport:
    """The exchange's answer for one cancel instruction."""

    outcome: Outcome
    bet_id: str
    size_cancelled: float = 0.0
    failure: FailureKind = FailureKind.NONE
    error_code: str = ""


@dataclass(frozen=True, slots=True)
class ReplaceReport:
    """replaceOrders = cancel + place; both halves are reported."""

    outcome: Outcome
    bet_id: str
    cancel: CancelReport
    place: PlaceReport | None
    failure: FailureKind = FailureKind.NONE
    error_code: str = ""


@dataclass(frozen=True, slots=True)
class CurrentOrder:
    """An order as the exchange currently sees it (listCurrentOrders / order stream)."""

    bet_id: str
    market_id: str
    selection_id: int
    side: Side
    price: float
    size: float
    status: ExchangeOrderStatus
    customer_order_ref: str = ""
    persistence: Persistence = Persistence.LAPSE
    size_matched: float = 0.0
    average_price_matched: float = 0.0
    size_remaining: float = 0.0
    size_cancelled: float = 0.0
    size_lapsed: float = 0.0
    size_voided: float = 0.0
    placed_ms: int = 0


@dataclass(frozen=True, slots=True)
class ClearedOrder:
    """A settled bet (listClearedOrders): profit is before commission, per bet."""

    bet_id: str
    market_id: str
    selection_id: int
    side: Side
    price_matched: float
    size_settled: float
    profit: float
    customer_order_ref: str = ""
    settled_ms: int = 0
    bet_outcome: str = ""


@dataclass(frozen=True, slots=True)
class MarketState:
    """What the risk layer must know about a market at decision time."""

    market_id: str
    status: str = "OPEN"
    in_play: bool = False
    runner_ids: tuple[int, ...] = field(default_factory=tuple)
    event_id: str = ""
