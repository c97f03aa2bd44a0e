"""aiohttp WebSocket client for the score provider (protocol: adapters/scores/protocol.py).

Connects, subscribes, and hands every tick to a synchronous callback (the engine's hot path: no
`await` between a frame arriving and the score being applied). When the connection drops it
reconnects with exponential backoff and jitter, and resumes: for each match it asks for the ticks
after the last one applied (and a snapshot for matches the engine no longer trusts), so a
reconnect loses nothing and replays nothing the engine already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
import orjson

from adapters.scores.protocol import MatchSelection, SnapshotRequest, Subscribe, encode_request
from engine.logs import get_logger
from engine.score.config import ScoresConfig
from engine.score.ticks import ScoreTick, TickError, parse_tick

_log = get_logger("scores.wsclient")


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where to resume: last applied seq per match, and matches that need a snapshot."""

    from_seq: dict[str, int] = field(default_factory=dict)
    snapshot: tuple[str, ...] = ()


@dataclass
class ClientStats:
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    ticks: int = 0
    heartbeats: int = 0
    malformed: Counter[str] = field(default_factory=Counter)
    callback_errors: int = 0


def backoff_delay(attempt: int, config: ScoresConfig, rng: random.Random) -> float:
    """Delay before reconnect attempt `attempt` (1 = first retry): exponential, capped, jittered."""
    base = min(
        config.backoff_max_s,
        config.backoff_initial_s * config.backoff_multiplier ** max(0, attempt - 1),
    )
    jitter = config.backoff_jitter
    return base * (1.0 + rng.uniform(-jitter, jitter))


class ScoreFeedClient:
    """Stay subscribed to `matches` at `url` until `stop()`; ticks go to `on_tick(tick)`.

    `resume` supplies the resume point on every (re)connect — pass the score book's view
    (``lambda: ResumePoint(book.resume_seqs(), tuple(book.needing_snapshot()))``) so resumption
    follows what was *applied*; by default the client resumes after the highest seq it delivered.
    """

    def __init__(
        self,
        url: str,
        on_tick: Callable[[ScoreTick], None],
        matches: Sequence[str] | Literal["all"] = "all",
        config: ScoresConfig | None = None,
        *,
        resume: Callable[[], ResumePoint] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.on_tick = on_tick
        self.matches: MatchSelection = "all" if matches == "all" else tuple(matches)
        self.config = config if config is not None else ScoresConfig()
        self.stats = ClientStats()
        self.delivered_seq: dict[str, int] = {}
        self.last_message_at: float | None = None
        self.subscribed = asyncio.Event()
        self._resume = resume
        self._rng = rng if rng is not None else random.Random()
        self._stopping = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    # ------------------------------------------------------------------------------- control

    def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None and not self._ws.closed:
            asyncio.get_running_loop().create_task(self._ws.close())

    async def request_snapshot(self, match_ids: Sequence[str]) -> bool:
        """Ask for snapshots now; False when not connected (the next resume will ask)."""
        ws = self._ws
        if ws is None or ws.closed:
            return False
        await ws.send_str(encode_request(SnapshotRequest(tuple(match_ids))))
        return True

    def resume_point(self) -> ResumePoint:
        if self._resume is not None:
            return self._resume()
        return ResumePoint(dict(self.delivered_seq))

    # ---------------------------------------------------------------------------------- run

    async def run(self) -> None:
        """Connect, consume, and reconnect with backoff until `stop()`."""
        attempt = 0
        timeout = aiohttp.ClientWSTimeout(ws_close=self.config.connect_timeout_s)
        handshake = aiohttp.ClientTimeout(
            total=None,
            connect=self.config.connect_timeout_s,
            sock_connect=self.config.connect_timeout_s,
        )
        async with aiohttp.ClientSession(timeout=handshake) as session:
            while not self._stopping.is_set():
                try:
                    async with session.ws_connect(
                        self.url,
                        timeout=timeout,
                        heartbeat=self.config.heartbeat_s or None,
                        autoping=True,
                    ) as ws:
                        attempt = 0
                        await self._consume(ws)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    self.stats.connect_failures += 1
                    _log.warning("score_feed_connect_failed", url=self.url, reason=str(exc))
                finally:
                    self._ws = None
                    self.subscribed.clear()
                if self._stopping.is_set():
                    break
                attempt += 1
                delay = backoff_delay(attempt, self.config, self._rng)
                _log.info("score_feed_reconnecting", url=self.url, attempt=attempt, delay_s=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _consume(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self.stats.connects += 1
        resume = self.resume_point()
        await ws.send_str(encode_request(Subscribe(self.matches, resume.from_seq, resume.snapshot)))
        _log.info(
            "score_feed_connected",
            url=self.url,
            resume_matches=len(resume.from_seq),
            snapshots=list(resume.snapshot),
        )
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self._on_frame(msg.data)
            elif msg.type == aiohttp.WSMsgType.ERROR:
                break
        self.stats.disconnects += 1
        _log.warning("score_feed_disconnected", url=self.url, code=ws.close_code)

    def _on_frame(self, text: str) -> None:
        """Parse and deliver one frame synchronously; bad frames are counted and logged."""
        self.last_message_at = time.monotonic()
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._malformed("json", text)
            return
        if isinstance(obj, dict) and "op" in obj and "v" not in obj:
            self._on_control(obj)
            return
        try:
            tick = parse_tick(obj)
        except TickError as exc:
            self._malformed(str(exc).split(":", 1)[0], str(exc))
            return
        self.stats.ticks += 1
        if tick.seq > self.delivered_seq.get(tick.match_id, 0):
            self.delivered_seq[tick.match_id] = tick.seq
        try:
            self.on_tick(tick)
        except Exception:
            self.stats.callback_errors += 1
            _log.exception("score_feed_callback_failed", match_id=tick.match_id, seq=tick.seq)

    def _on_control(self, obj: dict[str, object]) -> None:
        op = obj.get("op")
        if op == "heartbeat":
            self.stats.heartbeats += 1
        elif op == "subscribed":
            self.subscribed.set()
        elif op == "error":
            _log.warning("score_feed_server_error", message=obj.get("message"))
        else:
            self._malformed("op", f"unknown control op {op!r}")

    def _malformed(self, reason: str, detail: str) -> None:
        self.stats.malformed[reason] += 1
        _log.warning("score_feed_malformed_frame", reason=reason, detail=detail[:200])
