"""The stream side of the loopback exchange: Exchange Stream API protocol on a local socket.

Two clocks. With a speed (×N real time) the server is a live exchange: one exchange clock starts at
the first market subscription, every connection sees the same "now", and a fresh subscription gets
the markets as they stand now (a composed ``img`` SUB_IMAGE). With speed 0 (as fast as the client
reads; tests) every fresh subscription replays the recording from its start. Either way a resume
(initialClk + clk) continues at exactly the message after the clk, behind a RESUB_DELTA, catching
up at once on whatever the exchange published meanwhile. Each subscription is a cursor into the
recording and writes go through `drain()`, so a slow reader holds the server at the socket's
high-water mark instead of growing a queue.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.betfair.loopback.faults import FaultPlan
from adapters.betfair.loopback.identity import SessionRegistry
from adapters.betfair.loopback.images import ImageComposer
from adapters.betfair.loopback.recording import ClockTokens, Recording
from adapters.betfair.stream_protocol import (
    CONFLATE_MS_BOUNDS,
    CRLF,
    HEARTBEAT_MS_BOUNDS,
    MARKET_SUBSCRIPTION,
    ORDER_SUBSCRIPTION,
    clamp,
    encode_message,
)
from engine.logs import get_logger

log = get_logger("betfair.loopback.stream")

_YIELD_EVERY = 16


@dataclass(frozen=True, slots=True)
class StreamServerSettings:
    speed: float = 10.0  # recorded time / publish time; 0 = as fast as the client reads
    max_gap_ms: int = 5000  # longest recorded gap honoured before scaling by speed
    max_connections: int = 10
    subscription_limit: int = 200  # markets one subscription may match
    segment_max_changes: int = 0  # split messages with more market changes than this (0 = off)
    auth_timeout_s: float = 15.0
    send_buffer_bytes: int = 0  # SO_SNDBUF per connection (0 = kernel default, auto-tuned)


@dataclass(slots=True)
class StreamServerStats:
    connections: int = 0
    authenticated: int = 0
    auth_failures: int = 0
    subscriptions: int = 0
    resumes: int = 0
    messages_sent: int = 0
    heartbeats_sent: int = 0
    bytes_sent: int = 0
    max_write_buffer_bytes: int = 0
    dropped_connections: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _OrderChange:
    pt: int
    changes: list[dict[str, Any]]


class _ClosedError(Exception):
    """The publisher ended the connection on purpose (fault injection, session expiry)."""


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter, stats: StreamServerStats) -> None:
        self.writer = writer
        self.stats = stats
        self.lock = asyncio.Lock()
        self.token: str | None = None
        self.connection_id = f"{secrets.randbelow(10**9):09d}-loopback"
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.unyielded = 0

    async def send(self, data: bytes) -> None:
        if self.writer.transport.is_closing():
            raise ConnectionResetError("loopback: peer went away")
        async with self.lock:
            self.writer.write(data)
            self.stats.bytes_sent += len(data)
            buffered = self.writer.transport.get_write_buffer_size()
            self.stats.max_write_buffer_bytes = max(self.stats.max_write_buffer_bytes, buffered)
            await self.writer.drain()
        # drain() does not yield below the high-water mark: yield anyway, every few messages, so
        # that a peer's close (and other connections) are seen soon, not a thousand messages later
        self.unyielded += 1
        if self.unyielded >= _YIELD_EVERY:
            self.unyielded = 0
            await asyncio.sleep(0)

    async def status(
        self, request_id: int | None, error_code: str | None = None, *, close: bool = False
    ) -> None:
        message: dict[str, Any] = {"op": "status", "id": request_id}
        if error_code is None:
            message.update(statusCode="SUCCESS", connectionClosed=False)
        else:
            message.update(
                statusCode="FAILURE",
                errorCode=error_code,
                errorMessage=f"loopback: {error_code}",
                connectionClosed=close,
                connectionId=self.connection_id,
            )
        await self.send(encode_message(message))

    def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.writer.close()


class StreamServer:
    """Accepts stream connections and serves a `Recording` plus published order changes."""

    def __init__(
        self,
        recording: Recording,
        sessions: SessionRegistry,
        settings: StreamServerSettings,
        faults: FaultPlan | None = None,
        order_image: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.recording = recording
        self.sessions = sessions
        self.settings = settings
        self.faults = faults or FaultPlan()
        self.stats = StreamServerStats()
        self.order_image = order_image
        epoch = secrets.token_hex(4)
        self._market_tokens = ClockTokens(epoch, "m")
        self._order_tokens = ClockTokens(epoch, "o")
        self._offsets = recording.offsets_s(settings.speed, settings.max_gap_ms)
        self._shared_clock = settings.speed > 0
        self._clock_anchor: float | None = None  # loop time of the exchange clock's zero
        self._composer = ImageComposer()
        self._connections: set[_Connection] = set()
        self._orders: list[_OrderChange] = []
        self._orders_changed = asyncio.Event()

    @property
    def end_clk(self) -> str:
        """The clk a client holds once it has every message of the recording."""
        return self._market_tokens.at(len(self.recording))

    # ------------------------------------------------------------------ order feed (simexchange)
    def publish_order_changes(self, changes: list[dict[str, Any]], pt: int) -> None:
        """Queue `oc` entries for every order subscriber (the simulated exchange calls this)."""
        self._orders.append(_OrderChange(pt, changes))
        event, self._orders_changed = self._orders_changed, asyncio.Event()
        event.set()

    def expire_session(self, token: str) -> None:
        """Revoke a session and close its stream connections with INVALID_SESSION_INFORMATION."""
        self.sessions.revoke(token)
        for connection in list(self._connections):
            if connection.token == token:
                connection.tasks["expire"] = asyncio.ensure_future(self._expire(connection))

    async def _expire(self, connection: _Connection) -> None:
        with contextlib.suppress(Exception):
            await connection.status(None, "INVALID_SESSION_INFORMATION", close=True)
        self._count_error("INVALID_SESSION_INFORMATION")
        connection.close()

    def close_all(self) -> None:
        for connection in list(self._connections):
            connection.close()

    # ------------------------------------------------------------------ connection handling
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer, self.stats)
        sock = writer.get_extra_info("socket")
        if self.settings.send_buffer_bytes > 0 and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.settings.send_buffer_bytes)
        self._connections.add(connection)
        self.stats.connections += 1
        try:
            await connection.send(
                encode_message({"op": "connection", "connectionId": connection.connection_id})
            )
            await self._serve_requests(connection, reader)
        except (ConnectionError, asyncio.IncompleteReadError, _ClosedError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad connection must not take the server down
            log.exception("loopback_connection_error")
        finally:
            self._connections.discard(connection)
            connection.close()

    async def _serve_requests(self, connection: _Connection, reader: asyncio.StreamReader) -> None:
        authenticated = False
        while True:
            timeout = None if authenticated else self.settings.auth_timeout_s
            try:
                line = await asyncio.wait_for(reader.readuntil(CRLF), timeout=timeout)
            except TimeoutError:
                await self._fail(connection, None, "TIMEOUT", close=True)
                return
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            try:
                request = orjson.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("not an object")
            except ValueError:
                await self._fail(connection, None, "INVALID_INPUT", close=True)
                return
            request_id = request.get("id")
            op = request.get("op")
            if op == "authentication":
                error = self._authentication_error(request)
                if error is not None:
                    self.stats.auth_failures += 1
                    await self._fail(connection, request_id, error, close=True)
                    return
                authenticated = True
                connection.token = str(request["session"])
                self.stats.authenticated += 1
                await connection.send(
                    encode_message(
                        {
                            "op": "status",
                            "id": request_id,
                            "statusCode": "SUCCESS",
                            "connectionClosed": False,
                            "connectionsAvailable": self._connections_available(),
                        }
                    )
                )
            elif op == "heartbeat":
                await connection.status(request_id)
            elif op in (MARKET_SUBSCRIPTION, ORDER_SUBSCRIPTION):
                if not authenticated:
                    await self._fail(connection, request_id, "NO_SESSION", close=True)
                    return
                await self._subscribe(connection, op, request)
            else:
                await self._fail(connection, request_id, "INVALID_REQUEST", close=False)

    def _connections_available(self) -> int:
        used = sum(1 for c in self._connections if c.token is not None)
        return max(0, self.settings.max_connections - used)

    def _authentication_error(self, request: dict[str, Any]) -> str | None:
        injected = self.faults.next_auth_error()
        if injected is not None:
            return injected
        app_key, session = request.get("appKey"), request.get("session")
        if not app_key:
            return "NO_APP_KEY"
        if not secrets.compare_digest(str(app_key), self.sessions.app_key):
            return "INVALID_APP_KEY"
        if not session:
            return "NO_SESSION"
        if not self.sessions.valid(str(session)):
            return "INVALID_SESSION_INFORMATION"
        if self._connections_available() <= 0:
            return "MAX_CONNECTION_LIMIT_EXCEEDED"
        return None

    async def _fail(
        self, connection: _Connection, request_id: Any, code: str, *, close: bool
    ) -> None:
        self._count_error(code)
        log.info("loopback_status_failure", error_code=code, connection_closed=close)
        await connection.status(
            request_id if isinstance(request_id, int) else None, code, close=close
        )

    def _count_error(self, code: str) -> None:
        errors = self.stats.errors_by_code
        errors[code] = errors.get(code, 0) + 1

    async def _subscribe(self, connection: _Connection, op: str, request: dict[str, Any]) -> None:
        request_id = request.get("id")
        heartbeat_ms = clamp(int(request.get("heartbeatMs") or 5000), HEARTBEAT_MS_BOUNDS)
        conflate_ms = clamp(int(request.get("conflateMs") or 0), CONFLATE_MS_BOUNDS)
        segmentation = bool(request.get("segmentationEnabled", True))
        tokens = self._market_tokens if op == MARKET_SUBSCRIPTION else self._order_tokens
        initial_clk, clk = request.get("initialClk"), request.get("clk")
        start: int | None = 0
        if initial_clk and clk:
            start = tokens.position(str(initial_clk), str(clk))
            limit = len(self.recording) if op == MARKET_SUBSCRIPTION else len(self._orders)
            if start is None or start > limit:
                await self._fail(connection, request_id, "INVALID_CLOCK", close=True)
                raise _ClosedError
            self.stats.resumes += 1
            if op == MARKET_SUBSCRIPTION:
                self.faults.rearm_after(start)
        if op == MARKET_SUBSCRIPTION:
            markets = self.recording.matching_markets(request.get("marketFilter") or {})
            if len(markets) > self.settings.subscription_limit:
                await self._fail(connection, request_id, "SUBSCRIPTION_LIMIT_EXCEEDED", close=True)
                raise _ClosedError
        self.stats.subscriptions += 1
        await connection.status(request_id if isinstance(request_id, int) else None)
        previous = connection.tasks.pop(op, None)
        if previous is not None:
            previous.cancel()
        resumed = bool(initial_clk and clk)
        header = {"heartbeatMs": heartbeat_ms, "conflateMs": conflate_ms}
        assert start is not None
        if op == MARKET_SUBSCRIPTION:
            anchor, image = self._market_start(markets, resumed, start)
            if not resumed:
                start = self._composer.position if self._shared_clock else 0
            publisher = self._publish_markets(
                connection,
                request_id,
                markets=markets,
                start=start,
                resumed=resumed,
                header=header,
                segmentation=segmentation,
                anchor=anchor,
                image=image,
            )
        else:
            publisher = self._publish_orders(connection, request_id, start, resumed, header)
        connection.tasks[op] = asyncio.ensure_future(self._guard(connection, publisher))

    def _market_start(
        self, markets: set[str], resumed: bool, start: int
    ) -> tuple[float, list[dict[str, Any]]]:
        """(loop time at which offset 0 is due, image changes for a fresh subscription)."""
        now = asyncio.get_running_loop().time()
        if not self._shared_clock:
            return now - (self._offsets[start] if start < len(self._offsets) else 0.0), []
        if self._clock_anchor is None:
            self._clock_anchor = now
        if resumed:
            return self._clock_anchor, []
        live = bisect.bisect_right(self._offsets, now - self._clock_anchor)
        messages = self.recording.messages
        while self._composer.position < live:
            self._composer.apply(messages[self._composer.position].changes)
        return self._clock_anchor, self._composer.images(markets)

    async def _guard(self, connection: _Connection, publisher: Any) -> None:
        try:
            await publisher
        except (ConnectionError, _ClosedError):
            connection.close()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("loopback_publisher_error")
            connection.close()

    # ------------------------------------------------------------------ market publishing
    async def _publish_markets(
        self,
        connection: _Connection,
        request_id: Any,
        *,
        markets: set[str],
        start: int,
        resumed: bool,
        header: dict[str, Any],
        segmentation: bool,
        anchor: float,
        image: list[dict[str, Any]],
    ) -> None:
        loop = asyncio.get_running_loop()
        messages, offsets, tokens, faults = (
            self.recording.messages,
            self._offsets,
            self._market_tokens,
            self.faults,
        )
        count = len(messages)
        heartbeat_s = header["heartbeatMs"] / 1000.0
        last_pt = messages[max(0, start - 1)].pt
        first = {
            "op": "mcm",
            "id": request_id,
            "initialClk": tokens.initial(),
            "clk": tokens.at(start),
            "pt": last_pt,
            "ct": "RESUB_DELTA" if resumed else "SUB_IMAGE",
            "mc": image,
            **header,
        }
        await connection.send(encode_message(first))
        drop_limit = faults.next_drop_limit()
        sent = 0
        position = start
        last_send = loop.time()

        def encoded(index: int) -> list[bytes]:
            message = messages[index]
            changes = [c for c in message.changes if c.get("id") in markets]
            if not changes:
                return []
            base: dict[str, Any] = {"op": "mcm", "id": request_id, "pt": message.pt}
            stale_from, stale_until = faults.stale_from, faults.stale_until
            if stale_from is not None and stale_from <= index < (stale_until or count):
                base["status"] = 503
            size = self.settings.segment_max_changes
            if not segmentation or size <= 0 or len(changes) <= size:
                return [encode_message({**base, "clk": tokens.at(index + 1), "mc": changes})]
            chunks = [changes[i : i + size] for i in range(0, len(changes), size)]
            lines = []
            for number, chunk in enumerate(chunks):
                kind = (
                    "SEG_START"
                    if number == 0
                    else "SEG_END"
                    if number == len(chunks) - 1
                    else "SEG"
                )
                line: dict[str, Any] = {**base, "segmentType": kind, "mc": chunk}
                if kind == "SEG_END":
                    line["clk"] = tokens.at(index + 1)
                lines.append(encode_message(line))
            return lines

        async def heartbeat() -> None:
            nonlocal last_send
            beat = {"op": "mcm", "id": request_id, "clk": tokens.at(position), "pt": last_pt}
            await connection.send(encode_message({**beat, "ct": "HEARTBEAT"}))
            self.stats.heartbeats_sent += 1
            last_send = loop.time()

        while True:
            now = loop.time()
            if position < count and anchor + offsets[position] <= now:
                if drop_limit is not None and sent >= drop_limit:
                    self.stats.dropped_connections += 1
                    log.info("loopback_fault_drop", position=position)
                    connection.writer.transport.abort()
                    raise _ClosedError
                if faults.fire("expire", position, faults.expire_session_at):
                    self.sessions.revoke(connection.token)
                    await self._fail(connection, None, "INVALID_SESSION_INFORMATION", close=True)
                    raise _ClosedError
                if faults.fire("stall", position, faults.stall_at):
                    async with connection.lock:  # silences the order stream's heartbeats too
                        await asyncio.sleep(faults.stall_s)
                    continue
                if faults.fire("heartbeats_only", position, faults.heartbeats_only_at):
                    for _ in range(faults.heartbeats_only_count):
                        await asyncio.sleep(heartbeat_s)
                        await heartbeat()
                    anchor = loop.time() - offsets[position]
                    continue
                if faults.fire("garbage", position, faults.garbage_before):
                    await connection.send(b'{"op":"mcm","id":' + CRLF)
                order = [position]
                if position + 1 < count and faults.fire("reorder", position, faults.reorder_at):
                    order = [position + 1, position]
                for index in order:
                    lines = encoded(index)
                    if faults.fire("corrupt", index, faults.corrupt_at) and lines:
                        lines = [lines[0][: len(lines[0]) // 2] + CRLF]
                    if faults.fire("duplicate", index, faults.duplicate_at):
                        lines = lines + lines
                    for line in lines:
                        await connection.send(line)
                    if lines:
                        self.stats.messages_sent += 1
                        sent += 1
                    last_pt = messages[index].pt
                position += len(order)
                last_send = loop.time()
                continue
            next_due = anchor + offsets[position] if position < count else float("inf")
            next_beat = last_send + heartbeat_s
            if next_beat <= next_due:
                await asyncio.sleep(max(0.0, next_beat - now))
                await heartbeat()
            else:
                await asyncio.sleep(next_due - now)

    # ------------------------------------------------------------------ order publishing
    async def _publish_orders(
        self,
        connection: _Connection,
        request_id: Any,
        start: int,
        resumed: bool,
        header: dict[str, Any],
    ) -> None:
        tokens = self._order_tokens
        heartbeat_s = header["heartbeatMs"] / 1000.0
        if resumed:
            position, image = start, []
        elif self.order_image is not None:
            position, image = len(self._orders), self.order_image()
        else:
            position, image = 0, []
        await connection.send(
            encode_message(
                {
                    "op": "ocm",
                    "id": request_id,
                    "initialClk": tokens.initial(),
                    "clk": tokens.at(position),
                    "pt": self._orders[position - 1].pt if position else 0,
                    "ct": "RESUB_DELTA" if resumed else "SUB_IMAGE",
                    "oc": image,
                    **header,
                }
            )
        )
        while True:
            while position < len(self._orders):
                change = self._orders[position]
                position += 1
                message = {
                    "op": "ocm",
                    "id": request_id,
                    "clk": tokens.at(position),
                    "pt": change.pt,
                    "oc": change.changes,
                }
                await connection.send(encode_message(message))
                self.stats.messages_sent += 1
            changed = self._orders_changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=heartbeat_s)
            except TimeoutError:
                beat = {"op": "ocm", "id": request_id, "clk": tokens.at(position), "pt": 0}
                await connection.send(encode_message({**beat, "ct": "HEARTBEAT"}))
                self.stats.heartbeats_sent += 1
