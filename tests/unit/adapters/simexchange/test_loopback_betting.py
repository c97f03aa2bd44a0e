"""The simulator's betting routes plugged into the loopback exchange server: the live betting
code path (HTTP JSON-RPC, app key + session token) places real orders on the simulator."""

import aiohttp

from adapters.betfair.betting import BetfairBetting, HttpJsonRpcTransport
from adapters.betfair.loopback.recording import RecordedChange, Recording
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.simexchange import SimExchange, SimExchangeConfig
from adapters.simexchange.loopback import betting_registrar
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.execution.types import FailureKind, OrderRequest, Outcome, Side
from engine.market import MarketCache


async def test_live_betting_path_against_the_loopback_server():
    clock = ManualClock()
    sim = SimExchange(SimExchangeConfig(latency_ms=0), clock)
    change = market_change(
        "1.5",
        definition=market_definition((1, 2)),
        runners=[runner_change(1, atb=[(1.5, 100)], atl=[(1.52, 100)])],
        image=True,
    )
    update = MarketCache(record_level_changes=True).apply(change, clock())
    assert update is not None
    sim.on_market_update(update)
    loopback = LoopbackExchange(
        Recording([RecordedChange(clock(), [change])]),
        LoopbackConfig(app_key="key"),
        route_registrars=[betting_registrar(sim)],
    )
    async with loopback, aiohttp.ClientSession() as session:
        api = f"http://127.0.0.1:{loopback.http_port}/exchange/"
        token = loopback.issue_session()
        live = BetfairBetting(HttpJsonRpcTransport(session, api, "key", lambda: token))
        [report] = await live.place_orders(
            "1.5", [OrderRequest("1.5", 1, Side.BACK, 1.5, 4.0, "r")]
        )
        assert (report.outcome, report.size_matched) == (Outcome.DONE, 4.0)
        stale = BetfairBetting(HttpJsonRpcTransport(session, api, "key", lambda: "expired"))
        [refused] = await stale.place_orders(
            "1.5", [OrderRequest("1.5", 1, Side.BACK, 1.5, 4.0, "s")]
        )
        assert (refused.outcome, refused.failure, refused.error_code) == (
            Outcome.REJECTED,
            FailureKind.AUTH,
            "INVALID_SESSION_INFORMATION",
        )
        wrong_key = BetfairBetting(HttpJsonRpcTransport(session, api, "nope", lambda: token))
        [refused] = await wrong_key.place_orders(
            "1.5", [OrderRequest("1.5", 1, Side.BACK, 1.5, 4.0, "t")]
        )
        assert refused.error_code == "INVALID_APP_KEY"
    assert [o.customer_order_ref for o in sim.all_orders()] == ["r"]
