"""Market discovery: the listMarketCatalogue request, its parsing, and the loopback's answer over
real HTTP through the betting adapter's JSON-RPC transport."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from adapters.betfair.betting import HttpJsonRpcTransport
from adapters.betfair.catalogue import (
    BettingCatalogue,
    catalogue_params,
    catalogue_registrar,
    parse_catalogue,
)
from engine.clock import SimulatedClock
from engine.core.discovery import discover_once
from engine.core.engine import Engine, EngineParts
from engine.registry import ScoreMatchInfo


def test_params_ask_for_todays_tennis_match_odds_with_runner_names():
    params = catalogue_params(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))

    market_filter = params["filter"]
    assert market_filter["eventTypeIds"] == ["2"]
    assert market_filter["marketTypeCodes"] == ["MATCH_ODDS"]
    assert market_filter["marketStartTime"] == {
        "from": "2026-07-01T00:00:00Z",
        "to": "2026-07-02T12:00:00Z",
    }
    assert "RUNNER_DESCRIPTION" in params["marketProjection"]


def test_parse_keeps_good_rows_and_skips_malformed_ones():
    rows = [
        {
            "marketId": "1.2",
            "marketStartTime": "2026-07-01T10:35:00.000Z",
            "event": {"id": "9", "name": "Djokovic v Haas"},
            "runners": [
                {"selectionId": 11, "runnerName": "Novak Djokovic", "sortPriority": 1},
                {"selectionId": 12, "runnerName": "Tommy Haas", "sortPriority": 2},
            ],
        },
        {"event": {}},  # no marketId
    ]

    markets = parse_catalogue(rows)

    assert [m.market_id for m in markets] == ["1.2"]
    assert markets[0].runners[1].name == "Tommy Haas"
    assert markets[0].start_ts == datetime(2026, 7, 1, 10, 35, tzinfo=UTC).timestamp()


def _definition(repo_root: Path) -> tuple[str, dict[str, Any]]:
    path = repo_root / "data" / "sample" / "2013-wimbledon-1401" / "1.932405193.gz"
    with gzip.open(path, "rb") as handle:
        change = orjson.loads(handle.readline())["mc"][0]
    return change["id"], change["marketDefinition"]


async def test_the_loopback_catalogue_feeds_the_engine_over_http(repo_root):
    market_id, definition = _definition(repo_root)
    app = web.Application()
    catalogue_registrar({market_id: definition})(app, None)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    engine = Engine(EngineParts(), SimulatedClock(0.0))
    try:
        async with aiohttp.ClientSession() as http:
            transport = HttpJsonRpcTransport(
                http, f"http://127.0.0.1:{port}/exchange/", "key", lambda: "token"
            )
            added = await discover_once(engine, BettingCatalogue(transport))
            again = await discover_once(engine, BettingCatalogue(transport))
    finally:
        await runner.cleanup()

    assert (added, again) == (1, 0)
    assert engine.markets[market_id].link.how == "no_score_match"  # followed, not tradable yet
    links = engine.registry.add_score_match(
        ScoreMatchInfo("feed-1", ("N. Djokovic", "T. Haas"), None)
    )
    assert [(link.market_id, link.selections) for link in links] == [
        (market_id, (3762595, 3528636))  # the catalogue's runner names linked them
    ]
