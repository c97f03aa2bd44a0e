"""In-process transport: the betting adapter talks to the simulator without HTTP (replay, paper).

The adapter's request building, parsing and error mapping are exactly those used against Betfair;
only the bytes-on-a-socket step is skipped. Params and results are round-tripped through JSON so
nothing non-serialisable can pass here that would fail on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from adapters.betfair.betting import BettingCallError, classify
from adapters.simexchange.exchange import SimApiError, SimExchange

OPERATIONS = (
    "placeOrders",
    "cancelOrders",
    "replaceOrders",
    "listCurrentOrders",
    "listClearedOrders",
)


def operation_handler(
    exchange: SimExchange, operation: str
) -> Callable[[Mapping[str, Any]], dict[str, Any]] | None:
    """The simulator method serving a Betfair betting operation, None when not offered."""
    handlers: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
        "placeOrders": exchange.place_orders,
        "cancelOrders": exchange.cancel_orders,
        "replaceOrders": exchange.replace_orders,
        "listCurrentOrders": exchange.list_current_orders,
        "listClearedOrders": exchange.list_cleared_orders,
    }
    return handlers.get(operation)


class InProcessTransport:
    """A `Transport` for adapters.betfair.betting.BetfairBetting backed by a SimExchange."""

    def __init__(self, exchange: SimExchange, *, json_roundtrip: bool = True) -> None:
        self._exchange = exchange
        self._roundtrip = json_roundtrip

    async def call(self, operation: str, params: Mapping[str, Any]) -> Any:
        handler = operation_handler(self._exchange, operation)
        if handler is None:
            raise BettingCallError(*classify("INVALID_INPUT_DATA"), "INVALID_INPUT_DATA")
        request = orjson.loads(orjson.dumps(params)) if self._roundtrip else dict(params)
        try:
            result = handler(request)
        except SimApiError as exc:
            outcome, failure = classify(exc.error_code)
            raise BettingCallError(outcome, failure, exc.error_code) from exc
        return orjson.loads(orjson.dumps(result)) if self._roundtrip else result
