"""Live Exchange Stream API client: TLS, authentication, subscriptions, resume, recovery.

One coroutine (`StreamClient.run`) owns the connection for the life of the daemon. Messages are
handed to the consumer synchronously from the read loop: the engine parses, updates and decides
with no await in between (DESIGN.md §3). Every failure ends in one of four places: resume from the
last clk (network faults, malformed lines, heartbeat timeout), re-login then resume (session
expiry), a fresh image (bad clk, out-of-order data) or a `StreamFatalError` that says what the
operator must fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.betfair.messages import (
    SUB_IMAGE,
    ChangeMessage,
    ConnectionMessage,
    DecodeError,
    StatusMessage,
    StreamMessage,
    decode_message,
)
from adapters.betfair.stream_protocol import (
    CHANGE_OP_BY_SUBSCRIPTION,
    CONFLATE_MS_BOUNDS,
    CRLF,
    HEARTBEAT_MS_BOUNDS,
    MARKET_SUBSCRIPTION,
    ORDER_SUBSCRIPTION,
    MarketFilterSpec,
    StatusAction,
    StreamFatalError,
    StreamIntegrityError,
    StreamStatusError,
    authentication_request,
    backoff_delays,
    clamp,
    encode_message,
    subscription_request,
)
from adapters.betfair.stream_state import SubscriptionState, Verdict
from engine.logs import get_logger

log = get_logger("betfair.stream")

_READ_CHUNK_BYTES = 256 * 1024


class SessionProvider(Protocol):
    """Where the client gets its app key and session token (adapters.betfair.session)."""

    @property
    def app_key(self) -> str: ...

    async def session_token(self) -> str: ...

    async def relogin(self) -> str: ...


class StreamConsumer(Protocol):
    """Receives complete change messages synchronously, in order, without duplicates."""

    def on_market_change(self, message: ChangeMessage) -> None: ...

    def on_order_change(self, message: ChangeMessage) -> None: ...

    def on_subscription_reset(self, op: str) -> None:
        """A SUB_IMAGE for `op` follows: drop everything cached for that subscription."""


class StaticCredentials:
    """A fixed app key and session token (tests, or a token obtained out of band)."""

    def __init__(self, app_key: str, token: str) -> None:
        self._app_key = app_key
        self._token = token

    @property
    def app_key(self) -> str:
        return self._app_key

    async def session_token(self) -> str:
        return self._token

    async def relogin(self) -> str:
        return self._token


@dataclass(frozen=True, slots=True)
class StreamClientConfig:
    host: str = "stream-api.betfair.com"
    port: int = 443
    tls: bool = True
    ca_file: str = ""  # extra trust anchor, e.g. the loopback server's generated certificate
    server_hostname: str = ""  # TLS name to verify; defaults to host
    heartbeat_ms: int = 5000
    heartbeat_timeout_factor: float = 3.0
    conflate_ms: int | None = None
    segmentation: bool = True
    market_filter: MarketFilterSpec = field(default_factory=MarketFilterSpec)
    subscribe_orders: bool = True
    order_filter: dict[str, Any] = field(default_factory=dict)
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 15.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_jitter: float = 0.2
    max_line_bytes: int = 64 * 1024 * 1024
    max_consecutive_relogins: int = 3


@dataclass(slots=True)
class StreamCounters:
    """Plain counters; the engine exports them as Prometheus metrics."""

    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    reconnects: int = 0
    resumes: int = 0
    fresh_subscriptions: int = 0
    authentications: int = 0
    relogins: int = 0
    lines: int = 0
    bytes: int = 0
    malformed_lines: int = 0
    market_messages: int = 0
    order_messages: int = 0
    heartbeats: int = 0
    duplicates_dropped: int = 0
    integrity_errors: int = 0  # out-of-order data, broken segments, unexpected handshake
    segments: int = 0
    conflated_changes: int = 0
    stale_messages: int = 0
    heartbeat_timeouts: int = 0
    consumer_errors: int = 0
    unexpected_messages: int = 0
    status_errors: Counter[str] = field(default_factory=Counter)


class _ReconnectNowError(Exception):
    """Internal: drop the connection and resume immediately (no backoff)."""


class _NoSessionTokenError(Exception):
    """Internal: the session provider could not log in right now (identity service down)."""


class StreamClient:
    """Keeps one authenticated, subscribed stream connection alive until `stop()`."""

    def __init__(
        self,
        config: StreamClientConfig,
        credentials: SessionProvider,
        consumer: StreamConsumer,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.consumer = consumer
        self.counters = StreamCounters()
        self.connection_id: str | None = None
        self.connections_available: int | None = None
        self.fatal_error: str | None = None
        self._next_id = 0
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._subscriptions: dict[str, SubscriptionState] = {
            MARKET_SUBSCRIPTION: SubscriptionState(
                MARKET_SUBSCRIPTION,
                {
                    "marketFilter": config.market_filter.market_filter(),
                    "marketDataFilter": config.market_filter.market_data_filter(),
                },
            )
        }
        if config.subscribe_orders:
            self._subscriptions[ORDER_SUBSCRIPTION] = SubscriptionState(
                ORDER_SUBSCRIPTION, {"orderFilter": dict(config.order_filter)}
            )
        self._by_request_id: dict[int, SubscriptionState] = {}
        self._made_progress = False
        self._ssl_context = self._make_ssl_context() if config.tls else None

    # ------------------------------------------------------------------ public API
    @property
    def market_state(self) -> SubscriptionState:
        return self._subscriptions[MARKET_SUBSCRIPTION]

    @property
    def order_state(self) -> SubscriptionState | None:
        return self._subscriptions.get(ORDER_SUBSCRIPTION)

    @property
    def stale(self) -> bool:
        """True while disconnected or while the exchange flags its data stale (status 503)."""
        return not self._connected.is_set() or any(s.stale for s in self._subscriptions.values())

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def stop(self) -> None:
        self._stopping.set()
        if self._writer is not None:
            self._writer.transport.abort()

    async def run(self) -> None:
        """Connect, subscribe and deliver until stop(); StreamFatalError when it must give up."""
        delays = self._new_backoff()
        relogins = 0
        attempts = 0
        while not self._stopping.is_set():
            if attempts:
                self.counters.reconnects += 1
            attempts += 1
            self._made_progress = False
            try:
                await self._connect_and_stream()
                failure: BaseException | None = None
            except StreamFatalError as exc:  # e.g. the identity service refused the credentials
                self.fatal_error = str(exc)
                self._stopping.set()
                raise
            except (
                _NoSessionTokenError,
                _ReconnectNowError,
                StreamStatusError,
                StreamIntegrityError,
                OSError,
                EOFError,
                asyncio.IncompleteReadError,
                ssl.SSLError,
                TimeoutError,
            ) as exc:
                failure = exc
            finally:
                self._connected.clear()
                await self._close_writer()
            if self._made_progress:
                delays = self._new_backoff()
                relogins = 0
            delay, relogins = await self._delay_after(failure, delays, relogins)
            if delay > 0 and not self._stopping.is_set():
                log.info("stream_backoff", delay_s=round(delay, 3))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _delay_after(
        self, failure: BaseException | None, delays: Iterator[float], relogins: int
    ) -> tuple[float, int]:
        """How long to wait before the next connection attempt (raises when it must give up)."""
        if self._stopping.is_set():
            return 0.0, relogins
        if failure is None or isinstance(failure, _ReconnectNowError):
            return 0.0, relogins
        if isinstance(failure, StreamStatusError):
            self.counters.status_errors[failure.error_code] += 1
            return await self._after_status_error(failure, delays, relogins)
        if isinstance(failure, StreamIntegrityError):
            self.counters.integrity_errors += 1
            log.error("stream_integrity", reason=str(failure))
            self._reset_all()
            return 0.0, relogins
        log.warning("stream_disconnected", error=type(failure).__name__, detail=str(failure))
        return next(delays), relogins

    # ------------------------------------------------------------------ connection
    def _make_ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.config.ca_file:
            context.load_verify_locations(cafile=self.config.ca_file)
        return context

    def _new_backoff(self) -> Iterator[float]:
        cfg = self.config
        return backoff_delays(cfg.backoff_initial_s, cfg.backoff_max_s, cfg.backoff_jitter)

    def _request_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        # abort, not close: a TLS close waits for the peer while the server keeps streaming into
        # a connection we have already given up on
        writer.transport.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), timeout=1.0)

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._writer is not None
        self._writer.write(encode_message(message))
        await self._writer.drain()

    async def _connect_and_stream(self) -> None:
        cfg = self.config
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    cfg.host,
                    cfg.port,
                    ssl=self._ssl_context,
                    server_hostname=(cfg.server_hostname or cfg.host) if cfg.tls else None,
                    limit=cfg.max_line_bytes,
                ),
                timeout=cfg.connect_timeout_s,
            )
        except (OSError, TimeoutError):
            self.counters.connect_failures += 1
            raise
        self._writer = writer
        self.counters.connects += 1
        try:
            await self._handshake(reader)
            await self._subscribe_all()
            self._connected.set()
            await self._read_loop(reader)
        finally:
            self.counters.disconnects += 1

    async def _read_message(self, reader: asyncio.StreamReader, timeout: float) -> StreamMessage:
        """One line (handshake only; the data path reads in chunks)."""
        line = await asyncio.wait_for(reader.readuntil(CRLF), timeout=timeout)
        self.counters.bytes += len(line)
        return self._decode(line)

    def _decode(self, line: bytes) -> StreamMessage:
        self.counters.lines += 1
        message = decode_message(line)
        if isinstance(message, DecodeError):
            # The line may have been a real change we can no longer apply: resume from the last
            # clk so the server sends it again, rather than skip it and drift silently.
            self.counters.malformed_lines += 1
            log.error("stream_malformed_line", reason=str(message))
            raise _ReconnectNowError(str(message))
        return message

    async def _handshake(self, reader: asyncio.StreamReader) -> None:
        timeout = self.config.request_timeout_s
        message = await self._read_message(reader, timeout)
        if isinstance(message, StatusMessage):
            self._raise_status(message)
        if not isinstance(message, ConnectionMessage):
            raise StreamIntegrityError(f"handshake: expected 'connection', got {message!r:.80}")
        self.connection_id = message.connection_id
        request_id = self._request_id()
        try:
            token = await self.credentials.session_token()
        except StreamFatalError:
            raise
        except Exception as exc:
            log.warning("stream_no_session_token", error=type(exc).__name__)
            raise _NoSessionTokenError(type(exc).__name__) from exc
        await self._send(authentication_request(request_id, self.credentials.app_key, token))
        while True:
            reply = await self._read_message(reader, timeout)
            if isinstance(reply, StatusMessage) and reply.id in (request_id, None):
                break
            self.counters.unexpected_messages += 1
        if reply.status_code != "SUCCESS":
            self._raise_status(reply)
        self.counters.authentications += 1
        if reply.connections_available is not None:
            self.connections_available = reply.connections_available
        log.info("stream_authenticated", connection_id=self.connection_id)

    async def _subscribe_all(self) -> None:
        cfg = self.config
        heartbeat_ms = clamp(cfg.heartbeat_ms, HEARTBEAT_MS_BOUNDS)
        conflate_ms = (
            None if cfg.conflate_ms is None else clamp(cfg.conflate_ms, CONFLATE_MS_BOUNDS)
        )
        self._by_request_id.clear()
        for state in self._subscriptions.values():
            state.new_connection()
            state.request_id = self._request_id()
            self._by_request_id[state.request_id] = state
            if state.resumable:
                self.counters.resumes += 1
            else:
                state.forget_position()
                self.counters.fresh_subscriptions += 1
            await self._send(
                subscription_request(
                    state.op,
                    state.request_id,
                    state.body,
                    initial_clk=state.initial_clk,
                    clk=state.clk,
                    heartbeat_ms=heartbeat_ms,
                    conflate_ms=conflate_ms,
                    segmentation=cfg.segmentation,
                )
            )
            log.info("stream_subscribe", op=state.op, resume=state.resumable)

    def _heartbeat_timeout_s(self) -> float:
        heartbeat_ms = max(
            (s.heartbeat_ms or self.config.heartbeat_ms for s in self._subscriptions.values()),
            default=self.config.heartbeat_ms,
        )
        return heartbeat_ms / 1000.0 * self.config.heartbeat_timeout_factor

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        """Read chunks, split complete lines, dispatch each synchronously.

        One await per chunk rather than per line: a timed wait per message would cost more than
        parsing and applying the message itself.
        """
        buffer = bytearray()
        limit = self.config.max_line_bytes
        while not self._stopping.is_set():
            timeout = self._heartbeat_timeout_s()
            try:
                chunk = await asyncio.wait_for(reader.read(_READ_CHUNK_BYTES), timeout=timeout)
            except TimeoutError:
                self.counters.heartbeat_timeouts += 1
                log.warning("stream_heartbeat_timeout", silent_s=timeout)
                raise _ReconnectNowError from None
            if not chunk:
                raise EOFError("stream closed by the server")
            self.counters.bytes += len(chunk)
            scanned_from = max(0, len(buffer) - 1)  # a CRLF may straddle two chunks
            buffer += chunk
            end = buffer.rfind(CRLF, scanned_from)
            if end < 0:
                if len(buffer) > limit:
                    raise StreamIntegrityError(f"line: longer than {limit} bytes")
                continue
            complete = bytes(buffer[:end])
            del buffer[: end + 2]
            for line in complete.split(CRLF):
                if line:
                    self._dispatch(self._decode(line))
                if self._stopping.is_set():
                    return

    # ------------------------------------------------------------------ messages
    def _dispatch(self, message: StreamMessage) -> None:
        if type(message) is ChangeMessage:
            self._on_change(message)
        elif isinstance(message, StatusMessage):
            if message.is_failure or message.connection_closed:
                self._raise_status(message)
            if message.connections_available is not None:
                self.connections_available = message.connections_available
        else:
            self.counters.unexpected_messages += 1
            log.warning("stream_unexpected_message", message=repr(message)[:80])

    def _on_change(self, message: ChangeMessage) -> None:
        op = message.op
        state = self._by_request_id.get(message.id if message.id is not None else -1)
        if state is None or CHANGE_OP_BY_SUBSCRIPTION[state.op] != op:
            self.counters.unexpected_messages += 1
            return
        if message.segment_type is not None:
            self.counters.segments += 1
        try:
            verdict, complete = state.observe(message)
        except StreamIntegrityError as exc:
            # only this subscription's cache is suspect: it alone starts again from an image
            self.counters.integrity_errors += 1
            log.error("stream_integrity", op=state.op, reason=str(exc))
            state.forget_position()
            raise _ReconnectNowError(str(exc)) from exc
        if complete is not None and complete.status is not None:
            self.counters.stale_messages += 1
        if verdict is Verdict.HEARTBEAT:
            self.counters.heartbeats += 1
            return
        if verdict is Verdict.DUPLICATE:
            self.counters.duplicates_dropped += 1
            log.warning("stream_duplicate_dropped", op=op, clk=message.clk)
            return
        if complete is None:
            return
        self._made_progress = True
        if complete.ct == SUB_IMAGE:
            # a full image of the subscription (also what the exchange sends when it cannot
            # resume a clk): whatever the consumer cached for it is replaced, not updated
            self._consumer_call(self.consumer.on_subscription_reset, state.op)
        if op == "mcm":
            self.counters.market_messages += 1
            self.counters.conflated_changes += sum(
                1 for change in complete.changes if isinstance(change, dict) and change.get("con")
            )
            self._consumer_call(self.consumer.on_market_change, complete)
        else:
            self.counters.order_messages += 1
            self._consumer_call(self.consumer.on_order_change, complete)

    def _consumer_call(self, method: Any, argument: Any) -> None:
        try:
            method(argument)
        except Exception:  # a consumer bug must not take the feed down with it
            self.counters.consumer_errors += 1
            log.exception("stream_consumer_error", method=getattr(method, "__name__", "?"))

    def _raise_status(self, message: StatusMessage) -> None:
        raise StreamStatusError(
            message.error_code, message.error_message, message.connection_closed
        )

    def _reset_all(self) -> None:
        for state in self._subscriptions.values():
            state.forget_position()

    async def _after_status_error(
        self, exc: StreamStatusError, delays: Iterator[float], relogins: int
    ) -> tuple[float, int]:
        log.error("stream_status_error", code=exc.error_code, action=exc.action.value)
        if exc.action is StatusAction.FATAL:
            self.fatal_error = str(exc)
            self._stopping.set()
            raise StreamFatalError(str(exc)) from exc
        if exc.action is StatusAction.RELOGIN:
            relogins += 1
            if relogins > self.config.max_consecutive_relogins:
                self.fatal_error = f"{exc} (still refused after {relogins - 1} fresh logins)"
                self._stopping.set()
                raise StreamFatalError(self.fatal_error) from exc
            self.counters.relogins += 1
            try:
                await self.credentials.relogin()
            except StreamFatalError as login_exc:
                self.fatal_error = str(login_exc)
                self._stopping.set()
                raise
            except Exception as login_exc:  # identity service down: keep trying with backoff
                log.warning("stream_relogin_failed", error=type(login_exc).__name__)
                return next(delays), relogins
            return (0.0 if relogins == 1 else next(delays)), relogins
        if exc.action is StatusAction.RESUBSCRIBE_FRESH:
            self._reset_all()
            return 0.0, relogins
        if exc.action is StatusAction.RETRY_SLOW:
            return self.config.backoff_max_s, relogins
        return next(delays), relogins
