"""`courtside run`: start the sources, the engine and the control API; stop cleanly.

demo: the loopback exchange publishes the bundled sample day at ×speed, the loopback score
provider publishes its ticks on the same clock, and the engine trades it against the simulated
exchange — the same stream client, score client, engine and order manager as live. It ends by
itself when every market of the day has closed (or after --duration), prints a summary and exits.
SIGTERM/SIGINT stop any mode cleanly: sources closed, resting orders cancelled or kept
(`daemon.on_shutdown`), scheduled journal writes flushed, journal closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from adapters.app.consumer import EngineStreamConsumer
from adapters.app.demo import DemoDay, load_demo_day, publish_ticks
from adapters.app.execution import (
    Execution,
    simulated_port,
    start_execution,
)
from adapters.app.gc_freeze import freeze_startup_heap, thaw_heap
from adapters.app.live import run_live
from adapters.app.rehearsal import (
    RehearsalTimer,
    configured_script,
    rehearsal_summary,
    start_rehearsal,
    stop_rehearsal,
)
from adapters.app.settings import Mode, Settings
from adapters.app.wiring import build_engine, start_prediction_log
from adapters.betfair.betting import HttpJsonRpcTransport
from adapters.betfair.catalogue import BettingCatalogue, catalogue_registrar
from adapters.betfair.loopback.server import LoopbackExchange
from adapters.betfair.session import resolve_credentials
from adapters.betfair.stream_client import StaticCredentials, StreamClient
from adapters.betfair.stream_config import loopback_client_config
from adapters.scores.loopback import LoopbackScoreServer
from adapters.scores.wsclient import ResumePoint, ScoreFeedClient
from adapters.simexchange import SimExchange
from engine.api.server import ApiServer, start_api
from engine.core.accelerated import AcceleratedClock
from engine.core.discovery import keep_discovering
from engine.core.engine import MARKET_FEED, SCORE_FEED, Engine
from engine.logs import get_logger
from engine.metrics import EngineMetrics, Stage

_log = get_logger("app.daemon")
_POLL_S = 0.1
_DISCOVERY_S = 30.0  # wall seconds between catalogue listings


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Command-line choices that override engine.toml for one run."""

    mode: Mode = "demo"
    speed: float | None = None
    duration_s: float | None = None
    api_port: int | None = None
    match_ids: tuple[str, ...] = ()


def resolve_mode(settings: Settings, requested: str | None) -> Mode:
    """The mode to run: the flag, else engine.toml; "auto" is live with credentials, else demo."""
    mode = requested or settings.daemon.mode
    if mode == "auto":
        try:
            resolve_credentials(settings.betfair)
        except ValueError:
            return "demo"
        return "live"
    if mode not in ("live", "paper", "demo"):
        raise ValueError(f"mode: {mode!r} is not live, paper or demo")
    return mode  # type: ignore[return-value]


def require_live_inputs(settings: Settings, mode: Mode) -> None:
    """live and paper read the real exchange: refuse to start without what they need."""
    try:
        resolve_credentials(settings.betfair)
    except ValueError as exc:
        raise ValueError(
            f"--mode {mode}: Betfair credentials are required and were not found ({exc}); "
            "set them in the environment, or run --mode demo"
        ) from None
    if not settings.scores.ws_url:
        raise ValueError(f"scores.ws_url: --mode {mode} needs a live score feed (set its URL)")


def stage_means_us(metrics: EngineMetrics) -> dict[str, float]:
    """Mean µs per hot-path stage (the histograms hold the full distribution)."""
    out = {}
    for stage in Stage:
        timer = metrics.stage_timer(stage)
        count = sum(timer.counts)
        if count:
            out[str(stage)] = round(timer.sum_ns / count / 1000.0, 1)
    return out


class DemoRun:
    """The demo daemon (see the module docstring); `await run()` returns the summary."""

    def __init__(
        self,
        settings: Settings,
        options: RunOptions,
        stop: asyncio.Event,
        *,
        day: DemoDay | None = None,
        keep_records: bool = False,
    ) -> None:
        self.settings = settings
        self.options = options
        self.stop = stop
        self.speed = options.speed if options.speed is not None else settings.daemon.demo_speed
        if not self.speed > 0:
            raise ValueError(f"speed: must be positive, got {self.speed!r}")
        self.day = day
        self.keep_records = keep_records
        self.engine: Engine | None = None
        self.api: ApiServer | None = None
        self.ready = asyncio.Event()  # set once the API listens and prices flow
        self.closing = False  # set when shutdown starts (the API goes away soon after)
        self._stopped = asyncio.Event()

    async def run(self) -> dict[str, Any]:
        settings = self.settings
        day = self.day
        if day is None:
            day = self.day = load_demo_day(settings.daemon.demo_data, self.options.match_ids)
        script = configured_script(settings)
        clock = AcceleratedClock(day.origin_s, self.speed)
        metrics = EngineMetrics()
        sim = SimExchange(settings.simexchange, clock=lambda: int(clock.time() * 1000))
        workdir = tempfile.TemporaryDirectory(prefix="courtside-demo-")
        execution = await start_execution(
            settings.execution,
            simulated_port(sim),
            metrics,
            lambda: int(clock.time() * 1000),
            Path(workdir.name) / "journal.sqlite",
        )
        predictions = start_prediction_log(settings)
        engine = self.engine = build_engine(
            settings,
            clock,
            metrics,
            execution,
            sim=sim,
            predictions=predictions,
            context=day.context,
        )
        engine.keep_records = self.keep_records
        engine.warm_up()
        rehearsal = start_rehearsal(engine, settings, script)
        loopback = settings.loopback_config
        loopback = dataclasses.replace(
            loopback, stream=dataclasses.replace(loopback.stream, speed=self.speed, max_gap_ms=0)
        )
        exchange = LoopbackExchange(
            day.recording, loopback, route_registrars=[catalogue_registrar(day.definitions())]
        )
        scores = LoopbackScoreServer(heartbeat_s=settings.daemon.demo_heartbeat_s / self.speed)
        api_config = settings.api
        if self.options.api_port is not None:
            api_config = dataclasses.replace(api_config, port=self.options.api_port)
        tasks: list[asyncio.Task[Any]] = []
        started = time.monotonic()
        cancelled = 0
        freeze_startup_heap()  # models loaded and warmed: what exists now lives all day
        try:
            await exchange.start()
            score_url = await scores.start()
            self.api = await start_api(engine.board, metrics, api_config)
            http = aiohttp.ClientSession()
            tasks.append(asyncio.create_task(self._discover(engine, exchange, http, clock)))
            first = asyncio.Event()

            def on_first() -> None:
                clock.start()
                first.set()

            consumer = EngineStreamConsumer(
                engine, execution.sink.on_order_updates, on_first_message=on_first
            )
            client_config = dataclasses.replace(
                loopback_client_config(
                    settings.stream, exchange.port, tls=loopback.tls, ca_file=exchange.ca_file
                ),
                subscribe_orders=False,  # the in-process simulator reports fills directly
            )
            stream = StreamClient(
                client_config,
                StaticCredentials(loopback.app_key, exchange.issue_session()),
                consumer,
            )
            tasks.append(asyncio.create_task(stream.run(), name="market-stream"))
            await self._until(first.wait(), 30.0, "the loopback exchange sent no market data")
            engine.set_feed(MARKET_FEED, True)
            engine.start_timer()
            score_client = ScoreFeedClient(
                score_url,
                engine.on_score_tick,
                config=settings.scores,
                resume=lambda: ResumePoint(
                    engine.scores.resume_seqs(), tuple(engine.scores.needing_snapshot())
                ),
            )
            tasks.append(asyncio.create_task(score_client.run(), name="score-feed"))
            await self._until(score_client.subscribed.wait(), 30.0, "the score feed did not open")
            engine.set_feed(SCORE_FEED, True)
            publisher = asyncio.create_task(publish_ticks(scores, day.ticks, clock))
            tasks.append(publisher)
            self.ready.set()
            _log.info(
                "demo_running",
                speed=self.speed,
                markets=len(day.matches),
                api_port=self.api.port,
                event_span_s=round(day.end_s - day.origin_s),
            )
            reason = await self._wait_for_end(engine, publisher, started)
            self.closing = True
            self._stopped.set()
            stream.stop()
            score_client.stop()
            engine.stop_timer()
            stop_rehearsal(rehearsal)
            engine.set_feed(MARKET_FEED, False)
            engine.set_feed(SCORE_FEED, False)
            cancelled = await execution.shutdown(settings.daemon.on_shutdown == "cancel")
        finally:
            self.closing = True
            self._stopped.set()
            stop_rehearsal(rehearsal)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            if self.api is not None:
                await self.api.close()
            await scores.stop()
            await exchange.stop()
            workdir.cleanup()
            if predictions is not None:
                await predictions.close()
            thaw_heap()
        return self._summary(
            engine=engine,
            rehearsal=rehearsal,
            execution=execution,
            sim=sim,
            reason=reason,
            started=started,
            cancelled=cancelled,
        )

    async def _discover(
        self,
        engine: Engine,
        exchange: LoopbackExchange,
        http: aiohttp.ClientSession,
        clock: AcceleratedClock,
    ) -> None:
        """Follow the markets the loopback catalogue lists (as live asks Betfair's), the catalogue
        window judged on the demo's event clock."""
        config = exchange.config
        transport = HttpJsonRpcTransport(
            http,
            f"http://{config.host}:{exchange.http_port}/exchange/",
            config.app_key,
            exchange.issue_session,
        )
        catalogue = BettingCatalogue(
            transport, now=lambda: datetime.fromtimestamp(clock.time(), UTC)
        )
        try:
            await keep_discovering(engine, catalogue, _DISCOVERY_S, self._stopped)
        finally:
            await http.close()

    async def _until(self, waiting: Awaitable[Any], timeout_s: float, what: str) -> None:
        try:
            await asyncio.wait_for(waiting, timeout_s)
        except TimeoutError:
            raise RuntimeError(f"demo: {what} within {timeout_s:.0f} s") from None

    async def _wait_for_end(
        self, engine: Engine, publisher: asyncio.Task[int], started: float
    ) -> str:
        day = self.day
        assert day is not None
        market_ids = {m.market_id for m in day.matches.values()}
        duration = self.options.duration_s
        while True:
            if self.stop.is_set():
                return "signal"
            if duration is not None and time.monotonic() - started >= duration:
                return "duration"
            closed = all(
                (book := engine.cache.get(market_id)) is not None and book.closed
                for market_id in market_ids
            )
            if closed and publisher.done():
                return "day_over"
            await asyncio.sleep(_POLL_S)

    def _summary(
        self,
        *,
        engine: Engine,
        rehearsal: RehearsalTimer | None,
        execution: Execution,
        sim: SimExchange,
        reason: str,
        started: float,
        cancelled: int,
    ) -> dict[str, Any]:
        pnl = sum(s.net for s in sim.settlements.values())
        return {
            "mode": "demo",
            "ended_by": reason,
            "speed": self.speed,
            "wall_s": round(time.monotonic() - started, 1),
            "engine": engine.summary(),
            "rehearsal": rehearsal_summary(rehearsal),
            "orders": execution.order_counts(),
            "matched_stake_gbp": execution.matched_stake(),
            "orders_cancelled_at_shutdown": cancelled,
            "settled_markets": len(sim.settlements),
            "simulated_pnl_gbp": round(pnl, 2),
            "stage_mean_us": stage_means_us(engine.metrics),
        }


async def run_daemon(settings: Settings, options: RunOptions) -> dict[str, Any]:
    """Run until the mode's natural end or SIGTERM/SIGINT; returns the summary."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop.set)
    try:
        if options.mode == "demo":
            return await DemoRun(settings, options, stop).run()
        require_live_inputs(settings, options.mode)
        return await run_live(
            settings,
            options.mode,
            stop,
            duration_s=options.duration_s,
            api_port=options.api_port,
        )
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(number)
