"""A score provider on 127.0.0.1 speaking our WebSocket protocol (adapters/scores/protocol.py).

Why it is product code: the demo and paper modes publish recorded tick files through it, in real
or accelerated time, so the daemon consumes scores exactly as it would from a live provider; and
the fault tests use it to cut connections mid-stream (`drop_connections`, `disconnect_after`).

It keeps every published tick per match (to replay from any seq) and a score machine per match
(to answer snapshot requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import WSMsgType, web

from adapters.scores.protocol import (
    MatchSelection,
    ProtocolError,
    SnapshotRequest,
    Subscribe,
    control,
    parse_request,
)
from adapters.scores.tickfile import read_ticks
from engine.logs import get_logger
from engine.score.machine import MatchScoreMachine
from engine.score.ticks import ScoreTick, encode_tick

_log = get_logger("scores.loopback")


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    matches: MatchSelection | None = None  # None until subscribed
    frames_sent: int = 0

    def wants(self, match_id: str) -> bool:
        return self.matches == "all" or (self.matches is not None and match_id in self.matches)


class LoopbackScoreServer:
    """Publish ticks to WebSocket subscribers. `disconnect_after` closes every connection after
    that many tick frames (fault injection); `heartbeat_s` > 0 sends heartbeats when idle."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        heartbeat_s: float = 0.0,
        disconnect_after: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.heartbeat_s = heartbeat_s
        self.disconnect_after = disconnect_after
        self.connections_accepted = 0
        self._log: dict[str, list[ScoreTick]] = {}
        self._machines: dict[str, MatchScoreMachine] = {}
        self._connections: set[_Connection] = set()
        self._runner: web.AppRunner | None = None

    # --------------------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Start listening; returns the ws:// URL (with the real port when port was 0)."""
        app = web.Application()
        app.router.add_get("/scores", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        _log.info("score_loopback_listening", url=self.url)
        return self.url

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/scores"

    async def stop(self) -> None:
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def drop_connections(self) -> None:
        """Close every client connection now (they may reconnect and resume)."""
        for conn in list(self._connections):
            conn.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await conn.ws.close()

    # ---------------------------------------------------------------------------- publishing

    def publish(self, tick: ScoreTick) -> None:
        """Record `tick` and send it to every subscriber of its match (in publish order)."""
        self._log.setdefault(tick.match_id, []).append(tick)
        machine = self._machines.get(tick.match_id)
        if machine is None:
            machine = self._machines[tick.match_id] = MatchScoreMachine(tick.match_id)
        machine.apply(tick)
        frame = encode_tick(tick).decode()
        for conn in self._connections:
            if conn.wants(tick.match_id):
                conn.queue.put_nowait(frame)

    def publish_all(self, ticks: Iterable[ScoreTick]) -> int:
        count = 0
        for tick in ticks:
            self.publish(tick)
            count += 1
        return count

    async def publish_file(self, path: str | Path, speed: float | None = None) -> int:
        """Publish a tick file. speed None: as fast as possible; otherwise event time runs
        `speed` times faster than wall time (1.0 = real time), from the file's first tick."""
        count = 0
        first_ts: float | None = None
        started = time.monotonic()
        for tick in read_ticks(path):
            if speed is not None:
                first_ts = tick.ts if first_ts is None else first_ts
                due = started + (tick.ts - first_ts) / speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # let writers drain between ticks
            self.publish(tick)
            count += 1
        return count

    # ---------------------------------------------------------------------------- connections

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        self.connections_accepted += 1
        writer = asyncio.create_task(self._write(conn))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                self._on_request(conn, msg.data)
        finally:
            self._connections.discard(conn)
            conn.queue.put_nowait(None)
            await writer
        return ws

    def _on_request(self, conn: _Connection, text: str) -> None:
        try:
            request = parse_request(text)
        except ProtocolError as exc:
            _log.warning("score_loopback_bad_request", reason=str(exc))
            conn.queue.put_nowait(control("error", message=str(exc)))
            return
        if isinstance(request, SnapshotRequest):
            for match_id in request.matches:
                self._enqueue_snapshot(conn, match_id)
            return
        self._subscribe(conn, request)

    def _subscribe(self, conn: _Connection, request: Subscribe) -> None:
        match_ids = list(self._log) if request.matches == "all" else list(request.matches)
        for match_id in match_ids:
            after = request.from_seq.get(match_id, 0)
            if match_id in request.snapshot:
                after = self._enqueue_snapshot(conn, match_id)
            for tick in self._log.get(match_id, ()):
                if tick.seq > after:
                    conn.queue.put_nowait(encode_tick(tick).decode())
        conn.matches = request.matches
        listed = "all" if request.matches == "all" else list(request.matches)
        conn.queue.put_nowait(control("subscribed", matches=listed))

    def _enqueue_snapshot(self, conn: _Connection, match_id: str) -> int:
        """Queue a snapshot of `match_id`; returns the seq it covers (0 when none exists)."""
        machine = self._machines.get(match_id)
        snapshot = machine.snapshot() if machine is not None else None
        if snapshot is None:
            return 0
        conn.queue.put_nowait(encode_tick(snapshot).decode())
        return snapshot.seq

    async def _write(self, conn: _Connection) -> None:
        while True:
            try:
                if self.heartbeat_s > 0:
                    frame = await asyncio.wait_for(conn.queue.get(), self.heartbeat_s)
                else:
                    frame = await conn.queue.get()
            except TimeoutError:
                frame = control("heartbeat", ts=time.time())
            if frame is None or conn.ws.closed:
                return
            try:
                await conn.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return
            if frame.startswith('{"v":'):
                conn.frames_sent += 1
                if self.disconnect_after is not None and conn.frames_sent >= self.disconnect_after:
                    _log.info("score_loopback_fault_disconnect", frames=conn.frames_sent)
                    await conn.ws.close()
                    return
