"""`courtside run --mode live|paper`: the daemon on the real exchange (or anything speaking its
protocols, such as the loopback exchange).

Both modes log in (`[betfair]`, credentials from the environment or files), discover today's tennis
match-odds markets through the betting catalogue (every `daemon.discovery_s`), follow them on the
Exchange Stream API (`[stream]`) and the point-by-point feed (`[scores].ws_url`), and run the same
engine on a `LiveClock`. live places real orders through the betting API (journal at
`[orders].journal_path`, order stream subscribed as the source of truth); paper sends them to the
simulated exchange fed by the live books (journal in a temporary directory). Runs until SIGTERM /
SIGINT (or --duration), then shuts down as demo mode does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from adapters.app.consumer import EngineStreamConsumer
from adapters.app.execution import (
    simulated_port,
    start_execution,
)
from adapters.app.gc_freeze import freeze_startup_heap, thaw_heap
from adapters.app.rehearsal import (
    configured_script,
    rehearsal_summary,
    start_rehearsal,
    stop_rehearsal,
)
from adapters.app.settings import Mode, Settings
from adapters.app.wiring import build_engine, start_prediction_log
from adapters.betfair.betting import BetfairBetting, HttpJsonRpcTransport
from adapters.betfair.catalogue import BettingCatalogue
from adapters.betfair.session import BetfairSession, resolve_credentials
from adapters.betfair.stream_client import StreamClient
from adapters.scores.wsclient import ResumePoint, ScoreFeedClient
from adapters.simexchange import SimExchange
from engine.api.server import start_api
from engine.clock import LiveClock
from engine.core.discovery import keep_discovering
from engine.core.engine import MARKET_FEED, SCORE_FEED
from engine.execution.port import ExchangePort
from engine.logs import get_logger
from engine.metrics import EngineMetrics

_log = get_logger("app.live")
_POLL_S = 0.5


async def run_live(
    settings: Settings,
    mode: Mode,
    stop: asyncio.Event,
    *,
    duration_s: float | None = None,
    api_port: int | None = None,
) -> dict[str, Any]:
    """Run live or paper until `stop` (or `duration_s`); returns the summary."""
    script = configured_script(settings)
    session = BetfairSession(settings.betfair, resolve_credentials(settings.betfair))
    await session.session_token()  # a refused login stops here, with its reason
    session.start_keep_alive()
    clock = LiveClock()
    metrics = EngineMetrics()
    http = aiohttp.ClientSession()
    client = session.api_client
    transport = HttpJsonRpcTransport(
        http,
        settings.daemon.betting_url or str(client.api_uri),
        session.app_key,
        lambda: str(client.session_token or ""),
        timeout_s=settings.betfair.request_timeout_s,
    )
    workdir = tempfile.TemporaryDirectory(prefix="courtside-paper-")
    sim: SimExchange | None = None
    port: ExchangePort
    if mode == "paper":
        sim = SimExchange(settings.simexchange, clock=lambda: int(clock.time() * 1000))
        port = simulated_port(sim)
        journal = Path(workdir.name) / "journal.sqlite"
    else:
        port = BetfairBetting(transport)
        journal = Path(settings.execution.orders.journal_path)
    execution = await start_execution(
        settings.execution, port, metrics, lambda: int(clock.time() * 1000), journal
    )
    predictions = start_prediction_log(settings)
    engine = build_engine(settings, clock, metrics, execution, sim=sim, predictions=predictions)
    engine.warm_up()
    rehearsal = start_rehearsal(engine, settings, script)
    api_config = settings.api
    if api_port is not None:
        api_config = dataclasses.replace(api_config, port=api_port)
    api = await start_api(engine.board, metrics, api_config)
    consumer = EngineStreamConsumer(engine, execution.sink.on_order_updates)
    stream = StreamClient(
        dataclasses.replace(settings.stream, subscribe_orders=mode == "live"), session, consumer
    )
    scores = ScoreFeedClient(
        settings.scores.ws_url,
        engine.on_score_tick,
        config=settings.scores,
        resume=lambda: ResumePoint(
            engine.scores.resume_seqs(), tuple(engine.scores.needing_snapshot())
        ),
    )
    stopped = asyncio.Event()
    catalogue = BettingCatalogue(transport)
    tasks = [
        asyncio.create_task(
            keep_discovering(engine, catalogue, settings.daemon.discovery_s, stopped)
        ),
        asyncio.create_task(stream.run(), name="market-stream"),
        asyncio.create_task(scores.run(), name="score-feed"),
    ]
    engine.start_timer()
    freeze_startup_heap()  # models loaded and warmed: what exists now lives all day
    started = time.monotonic()
    reason = "signal"
    cancelled = 0
    try:
        _log.info("daemon_running", mode=mode, api_port=api.port)
        while not stop.is_set():
            if duration_s is not None and time.monotonic() - started >= duration_s:
                reason = "duration"
                break
            if stream.fatal_error is not None:
                reason = f"stream_fatal: {stream.fatal_error}"
                break
            engine.set_feed(MARKET_FEED, not stream.stale)
            engine.set_feed(SCORE_FEED, scores.subscribed.is_set())
            await asyncio.sleep(_POLL_S)
        stopped.set()
        stream.stop()
        scores.stop()
        engine.stop_timer()
        stop_rehearsal(rehearsal)
        cancelled = await execution.shutdown(settings.daemon.on_shutdown == "cancel")
    finally:
        stopped.set()
        stop_rehearsal(rehearsal)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await api.close()
        await http.close()
        await session.close()
        workdir.cleanup()
        if predictions is not None:
            await predictions.close()
        thaw_heap()
    settled = sim.settlements if sim is not None else {}
    return {
        "mode": mode,
        "ended_by": reason,
        "wall_s": round(time.monotonic() - started, 1),
        "engine": engine.summary(),
        "rehearsal": rehearsal_summary(rehearsal),
        "orders": execution.order_counts(),
        "matched_stake_gbp": execution.matched_stake(),
        "orders_cancelled_at_shutdown": cancelled,
        "settled_markets": len(settled),
        "stream_messages": stream.counters.market_messages,
        "stream_reconnects": stream.counters.reconnects,
    }
