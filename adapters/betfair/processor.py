"""Routes decoded stream messages to the market cache and keeps per-stream protocol state.

One `StreamProcessor` serves one connection (live) or one file (replay): it tracks the
connection id, each subscription's ``initialClk``/``clk`` (what a reconnect resumes from), the
last status reply, and counts every message kind and every error. Market changes go to an
`engine.market.MarketCache`; order changes are counted and passed untouched to the
`on_order_change` callback (the order layer owns them). Nothing here raises on bad input:
errors are counted and logged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from adapters.betfair.messages import (
    HEARTBEAT,
    RESUB_DELTA,
    SUB_IMAGE,
    ChangeMessage,
    ConnectionMessage,
    DecodeError,
    StatusMessage,
    StreamMessage,
    UnknownMessage,
    decode_message,
    message_from_dict,
    snippet,
)
from engine.logs import get_logger
from engine.market import MarketCache, MarketUpdate

_log = get_logger("betfair.stream")

# A message with only these keys is a plain market update (no ct, status, initialClk, …).
_PLAIN_UPDATE_KEYS = frozenset({"op", "id", "clk", "pt", "mc"})


def _typed(data: object, raw: bytes | str) -> StreamMessage | DecodeError:
    if not isinstance(data, dict):
        return DecodeError("not_object", f"got {type(data).__name__}", snippet(raw))
    message = message_from_dict(data)
    if isinstance(message, DecodeError):
        message.snippet = snippet(raw)
    return message


@dataclass(slots=True)
class StreamClock:
    """Resume point of one subscription (market or order): send both back on re-subscribe."""

    initial_clk: str | None = None
    clk: str | None = None
    conflate_ms: int | None = None
    heartbeat_ms: int | None = None
    last_pt: int | None = None

    def update(self, message: ChangeMessage) -> None:
        """Take the clocks a change message carries (a clock is only ever replaced, not cleared)."""
        if message.initial_clk:
            self.initial_clk = message.initial_clk
        if message.clk:
            self.clk = message.clk
        if message.conflate_ms is not None:
            self.conflate_ms = message.conflate_ms
        if message.heartbeat_ms is not None:
            self.heartbeat_ms = message.heartbeat_ms
        self.last_pt = message.pt


@dataclass(slots=True)
class StreamCounters:
    """Counts by message kind and by error, for metrics and end-of-run summaries."""

    messages: int = 0
    market_messages: int = 0
    order_messages: int = 0
    other_change_messages: int = 0
    heartbeats: int = 0
    sub_images: int = 0
    resub_deltas: int = 0
    market_updates: int = 0
    connections: int = 0
    status_messages: int = 0
    status_failures: int = 0
    stale_stream_flags: int = 0
    unknown_ops: int = 0
    decode_errors: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)


class StreamProcessor:
    """Applies stream messages in arrival order; `process` returns the market updates made."""

    def __init__(
        self,
        cache: MarketCache | None = None,
        on_order_change: Callable[[ChangeMessage], None] | None = None,
    ) -> None:
        """`on_order_change` receives every ocm message (the order layer's input), if given."""
        self.cache = cache if cache is not None else MarketCache()
        self._on_order_change = on_order_change
        self.market_clock = StreamClock()
        self.order_clock = StreamClock()
        self.connection_id: str | None = None
        self.last_status: StatusMessage | None = None
        self.stream_status: int | None = None
        self.counters = StreamCounters()

    def process_line(self, raw: bytes | str, line_no: int | None = None) -> list[MarketUpdate]:
        """Decode and process one line; a bad line is counted, logged and yields no update.

        Plain market updates (the bulk of any stream: op mcm with only id/clk/pt/mc) take a
        fast path straight from the decoded dict to the cache; everything else goes
        through `decode_message` and `process`, with identical results.
        """
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if (
            type(data) is dict
            and data.keys() <= _PLAIN_UPDATE_KEYS
            and data.get("op") == "mcm"
            and self.stream_status is None
        ):
            pt = data.get("pt")
            changes = data.get("mc")
            clk = data.get("clk")
            if type(pt) is int and type(changes) is list and (clk is None or type(clk) is str):
                counters = self.counters
                counters.messages += 1
                counters.market_messages += 1
                clock = self.market_clock
                if clk:
                    clock.clk = clk
                clock.last_pt = pt
                apply = self.cache.apply
                updates = []
                for change in changes:
                    update = apply(change, pt)
                    if update is not None:
                        updates.append(update)
                counters.market_updates += len(updates)
                return updates
        return self._process_slow(data, raw, line_no)

    def process_lines(
        self, lines: Iterable[bytes | str], first_line_no: int = 1
    ) -> Iterator[MarketUpdate]:
        """`process_line` over consecutive lines of a file, as one generator (the replay path).

        Same results and counters as calling `process_line` per line, minus the per-line call
        and list: this loop is most of a replay's CPU. Blank lines are skipped but counted, so
        lines are numbered from `first_line_no` as in the file and a malformed line is logged
        with its place. Each update is yielded before the next line is applied: the book
        behind it is live, so a consumer sees it exactly as of that update.
        """
        loads = orjson.loads
        json_error = orjson.JSONDecodeError
        plain_keys = _PLAIN_UPDATE_KEYS
        apply = self.cache.apply
        counters = self.counters
        clock = self.market_clock
        line_no = first_line_no - 1
        for raw in lines:
            line_no += 1
            try:
                data = loads(raw)
            except json_error:
                if raw and not raw.isspace():
                    yield from self._process_slow(None, raw, line_no)
                continue
            if (
                type(data) is dict
                and data.keys() <= plain_keys
                and data.get("op") == "mcm"
                and self.stream_status is None
            ):
                pt = data.get("pt")
                changes = data.get("mc")
                clk = data.get("clk")
                if type(pt) is int and type(changes) is list and (clk is None or type(clk) is str):
                    counters.messages += 1
                    counters.market_messages += 1
                    if clk:
                        clock.clk = clk
                    clock.last_pt = pt
                    for change in changes:
                        update = apply(change, pt)
                        if update is not None:
                            counters.market_updates += 1
                            yield update
                    continue
            yield from self._process_slow(data, raw, line_no)

    def _process_slow(
        self, data: object, raw: bytes | str, line_no: int | None
    ) -> list[MarketUpdate]:
        """Every line the fast path does not take: typed decode, then `process` (None: not JSON)."""
        message = decode_message(raw) if data is None else _typed(data, raw)
        if isinstance(message, DecodeError):
            self.record_decode_error(message, line_no)
            return []
        return self.process(message)

    def record_decode_error(self, error: DecodeError, line_no: int | None = None) -> None:
        """Count and log a line that did not decode (readers call this with the line number)."""
        self.counters.messages += 1
        self.counters.decode_errors += 1
        self._count_error(f"decode:{error.kind}")
        _log.warning(
            "malformed stream line",
            line_no=line_no,
            kind=error.kind,
            detail=error.detail,
            snippet=error.snippet,
        )

    def process(self, message: StreamMessage) -> list[MarketUpdate]:
        """Apply one decoded message; returns the market updates it produced (maybe none)."""
        counters = self.counters
        counters.messages += 1
        if type(message) is ChangeMessage:
            if message.op == "mcm":
                return self._on_market_message(message)
            if message.op == "ocm":
                counters.order_messages += 1
                self._on_clock(self.order_clock, message)
                if self._on_order_change is not None:
                    self._on_order_change(message)
                return []
            counters.other_change_messages += 1
            return []
        if isinstance(message, StatusMessage):
            self._on_status(message)
        elif isinstance(message, ConnectionMessage):
            counters.connections += 1
            self.connection_id = message.connection_id
            _log.info("stream connected", connection_id=message.connection_id)
        elif isinstance(message, UnknownMessage):
            counters.unknown_ops += 1
            self._count_error(f"op:{message.op}")
            _log.warning("unknown stream op", op=message.op)
        return []

    def _on_market_message(self, message: ChangeMessage) -> list[MarketUpdate]:
        counters = self.counters
        counters.market_messages += 1
        self._on_clock(self.market_clock, message)
        if message.status != self.stream_status:
            if message.status is not None:
                counters.stale_stream_flags += 1
                _log.warning("stream reports stale data", status=message.status)
            self.stream_status = message.status
        ct = message.ct
        if ct == HEARTBEAT:
            counters.heartbeats += 1
            return []
        if ct == SUB_IMAGE:
            counters.sub_images += 1
        elif ct == RESUB_DELTA:
            counters.resub_deltas += 1
        apply = self.cache.apply
        pt = message.pt
        updates = []
        for change in message.changes:
            update = apply(change, pt)
            if update is not None:
                updates.append(update)
        counters.market_updates += len(updates)
        return updates

    @staticmethod
    def _on_clock(clock: StreamClock, message: ChangeMessage) -> None:
        clock.update(message)

    def _on_status(self, message: StatusMessage) -> None:
        self.counters.status_messages += 1
        self.last_status = message
        if message.is_failure:
            self.counters.status_failures += 1
            self._count_error(message.error_code or "FAILURE")
            _log.error(
                "stream status failure",
                error_code=message.error_code,
                error_message=message.error_message,
                connection_closed=message.connection_closed,
            )

    def _count_error(self, code: str) -> None:
        errors = self.counters.errors_by_code
        errors[code] = errors.get(code, 0) + 1
