"""The stream client's consumer: hands complete change messages to the engine, synchronously.

`on_market_change` runs inside the client's read loop, so parse → update → gate → decision happens
with no await between the socket and the decision (DESIGN.md §3). Order-stream rows go to the order
sink (the source of truth for our orders); a subscription image resets the engine's book cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.betfair.messages import ChangeMessage
from adapters.betfair.stream_protocol import MARKET_SUBSCRIPTION
from engine.core.engine import Engine
from engine.execution.order_stream import read_order_changes
from engine.execution.types import CurrentOrder


class EngineStreamConsumer:
    """`StreamConsumer` (adapters.betfair.stream_client) over an `Engine`."""

    def __init__(
        self,
        engine: Engine,
        on_orders: Callable[[list[CurrentOrder]], None] | None = None,
        on_first_message: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_orders = on_orders
        self._first = on_first_message
        self.malformed_order_rows = 0

    def on_market_change(self, message: ChangeMessage) -> None:
        received = time.perf_counter_ns()
        if self._first is not None:
            first, self._first = self._first, None
            first()
        self.engine.on_market_change(message.pt, message.changes, received)

    def on_order_change(self, message: ChangeMessage) -> None:
        result = read_order_changes(message.changes)
        self.malformed_order_rows += result.malformed
        if result.malformed:
            self.engine.metrics.malformed.labels("orders").inc(result.malformed)
        if self.on_orders is not None and result.orders:
            self.on_orders(result.orders)

    def on_subscription_reset(self, op: str) -> None:
        if op == MARKET_SUBSCRIPTION:
            self.engine.on_market_reset()
