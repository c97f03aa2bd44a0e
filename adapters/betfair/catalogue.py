"""Market discovery through the betting API: listMarketCatalogue with betfairlightweight's filters.

`catalogue_params` builds the request (event type 2 = tennis, MATCH_ODDS, markets starting within
the look-back/look-ahead window around now, i.e. today's in-play and approaching ones, with event,
runner names and start time projected); `parse_catalogue` turns the answer into the registry's
`MarketInfo`; `BettingCatalogue` is the engine's `MarketDiscovery` over any betting `Transport`
(HTTP to Betfair or the loopback, or in-process). `catalogue_registrar` plugs a catalogue answered
from a recording's market definitions into the loopback exchange's HTTP side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web
from betfairlightweight import filters

from adapters.betfair.betting import JSON_RPC_PATH, METHOD_PREFIX, Transport
from engine.logs import get_logger
from engine.registry import MarketInfo, RunnerInfo, parse_iso_ts

_log = get_logger("betfair.catalogue")

OPERATION = "listMarketCatalogue"
PROJECTION = ["EVENT", "RUNNER_DESCRIPTION", "MARKET_START_TIME", "COMPETITION"]


def catalogue_params(
    now: datetime, *, look_back_h: float = 12.0, look_ahead_h: float = 24.0, max_results: int = 200
) -> dict[str, Any]:
    """listMarketCatalogue parameters: tennis MATCH_ODDS starting in [now - back, now + ahead]."""
    window = filters.time_range(
        from_=(now - timedelta(hours=look_back_h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        to=(now + timedelta(hours=look_ahead_h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    market_filter = filters.market_filter(
        event_type_ids=["2"], market_type_codes=["MATCH_ODDS"], market_start_time=window
    )
    return {
        "filter": market_filter,
        "marketProjection": PROJECTION,
        "sort": "FIRST_TO_START",
        "maxResults": max_results,
    }


def parse_catalogue(result: Any) -> list[MarketInfo]:
    """MarketCatalogue rows → MarketInfo; malformed rows are logged and skipped."""
    if not isinstance(result, list):
        raise ValueError(f"{OPERATION}: expected a list, got {type(result).__name__}")
    markets = []
    for row in result:
        try:
            event = row.get("event") or {}
            runners = tuple(
                RunnerInfo(
                    int(r["selectionId"]),
                    str(r.get("runnerName", "")),
                    int(r.get("sortPriority", i + 1)),
                )
                for i, r in enumerate(row.get("runners") or ())
            )
            markets.append(
                MarketInfo(
                    market_id=str(row["marketId"]),
                    event_id=str(event.get("id", "")),
                    event_name=str(event.get("name", "")),
                    start_ts=parse_iso_ts(row.get("marketStartTime")),
                    runners=runners,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            _log.warning("catalogue_row_malformed", error=repr(exc))
    return markets


class BettingCatalogue:
    """`engine.core.discovery.MarketDiscovery` over a betting transport."""

    def __init__(self, transport: Transport, now: Callable[[], datetime] | None = None) -> None:
        self._transport = transport
        self._now = now if now is not None else (lambda: datetime.now(UTC))

    async def markets(self) -> list[MarketInfo]:
        result = await self._transport.call(OPERATION, catalogue_params(self._now()))
        return parse_catalogue(result)


# -- loopback side --------------------------------------------------------------------------


def catalogue_rows(definitions: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """MarketCatalogue rows from stream market definitions (historical files name the runners)."""
    rows = []
    for market_id, definition in definitions.items():
        if definition.get("eventTypeId") != "2" or definition.get("marketType") != "MATCH_ODDS":
            continue
        rows.append(
            {
                "marketId": market_id,
                "marketName": definition.get("name", "Match Odds"),
                "marketStartTime": definition.get("marketTime"),
                "event": {"id": definition.get("eventId"), "name": definition.get("eventName")},
                "runners": [
                    {
                        "selectionId": r["id"],
                        "runnerName": r.get("name", ""),
                        "sortPriority": r.get("sortPriority", i + 1),
                    }
                    for i, r in enumerate(definition.get("runners", []))
                    if r.get("status", "ACTIVE") != "REMOVED"
                ],
            }
        )
    return rows


def catalogue_registrar(
    definitions: Mapping[str, Mapping[str, Any]],
) -> Callable[[web.Application, Any], None]:
    """A loopback route registrar answering listMarketCatalogue (JSON-RPC) from `definitions`.

    It serves the betting JSON-RPC path, so use it where the simulator's betting routes are not
    registered on the same server (demo mode executes in process)."""
    rows = catalogue_rows(definitions)

    async def handle(request: web.Request) -> web.Response:
        try:
            call = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.json_response({"jsonrpc": "2.0", "error": {"code": -32700}, "id": None})
        method = call.get("method") if isinstance(call, dict) else None
        request_id = call.get("id") if isinstance(call, dict) else None
        if method != METHOD_PREFIX + OPERATION:
            error = {"code": -32601, "message": f"method not found: {method}"}
            return web.json_response({"jsonrpc": "2.0", "error": error, "id": request_id})
        return web.Response(
            body=orjson.dumps({"jsonrpc": "2.0", "result": rows, "id": request_id}),
            content_type="application/json",
        )

    def register(app: web.Application, _loopback: Any) -> None:
        app.router.add_post("/exchange/" + JSON_RPC_PATH, handle)

    return register
