"""Exchange Stream API wire protocol: framing, request builders and what each error code means.

The stream is CRLF-delimited JSON over TLS. This module is pure (no sockets) so the client and the
loopback server share one definition of the protocol, and so it can be tested without a network.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

CRLF: Final = b"\r\n"

MARKET_SUBSCRIPTION: Final = "marketSubscription"
ORDER_SUBSCRIPTION: Final = "orderSubscription"
CHANGE_OP_BY_SUBSCRIPTION: Final = {MARKET_SUBSCRIPTION: "mcm", ORDER_SUBSCRIPTION: "ocm"}

# Betfair's bounds for heartbeatMs and conflateMs (ESASwaggerSchema).
HEARTBEAT_MS_BOUNDS: Final = (500, 30_000)
CONFLATE_MS_BOUNDS: Final = (0, 120_000)

DEFAULT_MARKET_FIELDS: Final = (
    "EX_ALL_OFFERS",
    "EX_TRADED",
    "EX_TRADED_VOL",
    "EX_LTP",
    "EX_MARKET_DEF",
)


def encode_message(message: dict[str, Any]) -> bytes:
    """One protocol line: compact JSON followed by CRLF."""
    return orjson.dumps(message) + CRLF


class StatusAction(enum.Enum):
    """What the client does after a FAILURE status with a given error code."""

    RELOGIN = "relogin"  # the session token is bad or expired: log in again, then resume
    RESUBSCRIBE_FRESH = "resubscribe_fresh"  # the clk token is refused: drop it, take a new image
    RETRY = "retry"  # transient: reconnect with exponential backoff and resume from clk
    RETRY_SLOW = "retry_slow"  # throttled: reconnect, but start at the longest backoff
    FATAL = "fatal"  # retrying the same request cannot succeed: stop and say why


# Every code in the Betfair schema, plus TOO_MANY_REQUESTS which the live service also sends.
ERROR_ACTIONS: Final[dict[str, StatusAction]] = {
    "NO_APP_KEY": StatusAction.FATAL,
    "INVALID_APP_KEY": StatusAction.FATAL,
    "NO_SESSION": StatusAction.RELOGIN,
    "INVALID_SESSION_INFORMATION": StatusAction.RELOGIN,
    "NOT_AUTHORIZED": StatusAction.FATAL,
    "INVALID_INPUT": StatusAction.FATAL,
    "INVALID_CLOCK": StatusAction.RESUBSCRIBE_FRESH,
    "UNEXPECTED_ERROR": StatusAction.RETRY,
    "TIMEOUT": StatusAction.RETRY,
    "SUBSCRIPTION_LIMIT_EXCEEDED": StatusAction.FATAL,
    "INVALID_REQUEST": StatusAction.FATAL,
    "CONNECTION_FAILED": StatusAction.RETRY,
    "MAX_CONNECTION_LIMIT_EXCEEDED": StatusAction.RETRY_SLOW,
    "TOO_MANY_REQUESTS": StatusAction.RETRY_SLOW,
}

ERROR_HINTS: Final[dict[str, str]] = {
    "NO_APP_KEY": "no application key was sent; set the app key environment variable",
    "INVALID_APP_KEY": "the application key is not valid (live vs delayed key?)",
    "NOT_AUTHORIZED": "the account or app key is not authorised for the Exchange Stream API",
    "INVALID_INPUT": "the server refused the request fields; check [stream] filters",
    "INVALID_REQUEST": "the server refused the request; check [stream] filters",
    "SUBSCRIPTION_LIMIT_EXCEEDED": (
        "the market filter matches more markets than the account may subscribe to; "
        "narrow [stream] market_types / event filters"
    ),
    "MAX_CONNECTION_LIMIT_EXCEEDED": "too many open stream connections for this app key",
    "TOO_MANY_REQUESTS": "the server is throttling connection attempts",
}


def action_for(error_code: str | None) -> StatusAction:
    """The client's reaction to an error code; unknown codes are retried with backoff."""
    if error_code is None:
        return StatusAction.RETRY
    return ERROR_ACTIONS.get(error_code, StatusAction.RETRY)


class StreamStatusError(Exception):
    """A FAILURE status from the server."""

    def __init__(self, error_code: str | None, error_message: str | None, closed: bool) -> None:
        self.error_code = error_code or "UNKNOWN"
        self.error_message = error_message or ""
        self.connection_closed = closed
        self.action = action_for(error_code)
        hint = ERROR_HINTS.get(self.error_code, "")
        text = f"{self.error_code}: {self.error_message}".rstrip(": ")
        super().__init__(f"{text} ({hint})" if hint else text)


class StreamFatalError(Exception):
    """The stream cannot continue without operator action (bad app key, subscription limit…)."""


class StreamIntegrityError(Exception):
    """Received data that breaks the stream's ordering rules; the cached state is suspect."""


@dataclass(frozen=True, slots=True)
class MarketFilterSpec:
    """The tennis market filter and data filter (DESIGN.md: event type 2, MATCH_ODDS…)."""

    event_type_ids: tuple[str, ...] = ("2",)
    market_types: tuple[str, ...] = ("MATCH_ODDS",)
    market_ids: tuple[str, ...] = ()
    turn_in_play_enabled: bool | None = True
    fields: tuple[str, ...] = DEFAULT_MARKET_FIELDS
    ladder_levels: int | None = None

    def market_filter(self) -> dict[str, Any]:
        market_filter: dict[str, Any] = {}
        if self.market_ids:
            market_filter["marketIds"] = list(self.market_ids)
        if self.event_type_ids:
            market_filter["eventTypeIds"] = list(self.event_type_ids)
        if self.market_types:
            market_filter["marketTypes"] = list(self.market_types)
        if self.turn_in_play_enabled is not None:
            market_filter["turnInPlayEnabled"] = self.turn_in_play_enabled
        return market_filter

    def market_data_filter(self) -> dict[str, Any]:
        data_filter: dict[str, Any] = {"fields": list(self.fields)}
        if self.ladder_levels is not None:
            data_filter["ladderLevels"] = self.ladder_levels
        return data_filter


def authentication_request(request_id: int, app_key: str, session_token: str) -> dict[str, Any]:
    return {"op": "authentication", "id": request_id, "appKey": app_key, "session": session_token}


def heartbeat_request(request_id: int) -> dict[str, Any]:
    return {"op": "heartbeat", "id": request_id}


def subscription_request(
    op: str,
    request_id: int,
    body: dict[str, Any],
    *,
    initial_clk: str | None,
    clk: str | None,
    heartbeat_ms: int,
    conflate_ms: int | None,
    segmentation: bool,
) -> dict[str, Any]:
    """A market or order subscription; with both clk tokens it resumes where the last one ended."""
    request: dict[str, Any] = {"op": op, "id": request_id, **body}
    if initial_clk and clk:
        request["initialClk"] = initial_clk
        request["clk"] = clk
    request["heartbeatMs"] = heartbeat_ms
    if conflate_ms is not None:
        request["conflateMs"] = conflate_ms
    request["segmentationEnabled"] = segmentation
    return request


def backoff_delays(
    initial_s: float, max_s: float, jitter: float, rng: random.Random | None = None
) -> Iterator[float]:
    """Exponential backoff with ±`jitter` relative noise, capped at `max_s` (never negative).

    Jitter spreads reconnects of many clients after an exchange-side outage.
    """
    generator = rng or random.Random()
    base = initial_s
    while True:
        noise = 1.0 + generator.uniform(-jitter, jitter) if jitter > 0 else 1.0
        yield max(0.0, min(max_s, base) * noise)
        base = min(max_s, base * 2.0)


def clamp(value: int, bounds: Sequence[int]) -> int:
    low, high = bounds[0], bounds[1]
    return max(low, min(high, value))
