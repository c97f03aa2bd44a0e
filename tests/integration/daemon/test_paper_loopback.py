"""`--mode paper` against the loopback exchange, as it would run against Betfair: interactive login
on the loopback identity endpoint, market discovery through the betting catalogue (JSON-RPC over
HTTP), the Exchange Stream on a socket, the score feed over a WebSocket, orders to the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.app.demo import load_demo_day, publish_ticks
from adapters.app.live import run_live
from adapters.app.settings import parse_settings
from adapters.betfair.catalogue import catalogue_registrar
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.betfair.loopback.stream_server import StreamServerSettings
from adapters.scores.loopback import LoopbackScoreServer
from engine.core.accelerated import AcceleratedClock

MATCH = "2013-wimbledon-2404"  # the shortest sample match
SPEED = 500.0


@pytest.fixture
def loopback_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETFAIR_USERNAME", "loopback")
    monkeypatch.setenv("BETFAIR_PASSWORD", "loopback")
    monkeypatch.setenv("BETFAIR_APP_KEY", "loopback-app-key")


async def test_paper_mode_logs_in_discovers_follows_and_prices_the_loopback(
    tiny_models: Path, repo_root: Path, loopback_credentials: None
):
    day = load_demo_day(repo_root / "data" / "sample", (MATCH,))
    exchange = LoopbackExchange(
        day.recording,
        LoopbackConfig(stream=StreamServerSettings(speed=SPEED, max_gap_ms=0)),
        route_registrars=[catalogue_registrar(day.definitions())],
    )
    scores = LoopbackScoreServer()
    await exchange.start()
    url = await scores.start()
    http = f"http://127.0.0.1:{exchange.http_port}"
    settings = parse_settings(
        {
            "betfair": {"login": "interactive", "identity_url": f"{http}/api/"},
            "stream": {"host": "127.0.0.1", "port": exchange.port, "tls": False},
            "scores": {"ws_url": url},
            "daemon": {"betting_url": f"{http}/exchange/", "discovery_s": 1.0},
            "core": {
                "models_dir": str(tiny_models),
                "emu_full": "gru_full.onnx",
                "emu_lite": "gru_lite.onnx",
            },
            "api": {"port": 0},
        }
    )

    async def publish() -> None:
        while exchange.stream.stats.subscriptions == 0:
            await asyncio.sleep(0.01)
        clock = AcceleratedClock(day.origin_s, SPEED)
        clock.start()
        await publish_ticks(scores, day.ticks, clock)

    publisher = asyncio.create_task(publish())
    try:
        summary = await run_live(settings, "paper", asyncio.Event(), duration_s=14.0, api_port=0)
    finally:
        publisher.cancel()
        await scores.stop()
        await exchange.stop()

    assert summary["mode"] == "paper"
    assert summary["ended_by"] == "duration"
    engine = summary["engine"]
    assert engine["markets_followed"] == 1
    assert engine["matches_linked"] == 1  # catalogue names + the feed's players
    assert engine["points_priced"] > 50
    assert engine["predictions"] > 50
    assert summary["stream_messages"] > 1000
