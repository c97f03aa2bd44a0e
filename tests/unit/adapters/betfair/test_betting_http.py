"""The betting adapter over HTTP against the simulator's betting endpoints on 127.0.0.1:
request shapes, error mapping (funds, suspension, bet action errors, duplicates, auth, timeouts,
transport failures) and betfairlightweight's own client against the same server."""

import asyncio

import aiohttp
import betfairlightweight
import pytest
from aiohttp import web

from adapters.betfair import betting
from adapters.betfair.betting import BetfairBetting, HttpJsonRpcTransport
from adapters.simexchange import SimExchange, SimExchangeConfig, register_betting_routes
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.execution.port import ExchangeUnavailableError
from engine.execution.types import (
    ExchangeOrderStatus,
    FailureKind,
    OrderRequest,
    Outcome,
    Side,
)
from engine.market import MarketCache

MARKET = "1.77"


class Server:
    def __init__(self, **config) -> None:
        self.clock = ManualClock()
        self.cache = MarketCache(record_level_changes=True)
        settings = {"latency_ms": 0, **config}
        self.sim = SimExchange(SimExchangeConfig(**settings), self.clock)
        self.feed(definition=market_definition((1, 2)), image=True)

    def feed(self, definition=None, image=False) -> None:
        update = self.cache.apply(
            market_change(
                MARKET,
                definition=definition,
                runners=[runner_change(1, atb=[(2.0, 50)], atl=[(2.02, 50)])] if image else [],
                image=image,
            ),
            self.clock(),
        )
        assert update is not None
        self.sim.on_market_update(update)


async def start(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def served():
    server = Server(starting_balance=100.0)
    app = web.Application()
    register_betting_routes(app, server.sim)
    runner, port = await start(app)
    async with aiohttp.ClientSession() as session:
        transport = HttpJsonRpcTransport(
            session, f"http://127.0.0.1:{port}/exchange/", "app-key", lambda: "token", timeout_s=2
        )
        yield server, BetfairBetting(transport), port
    await runner.cleanup()


def req(ref: str, price: float = 2.0, size: float = 10.0, side: Side = Side.BACK) -> OrderRequest:
    return OrderRequest(MARKET, 1, side, price, size, ref)


async def test_place_list_cancel_replace_round_trip(served):
    _, port_, _ = served
    [matched] = await port_.place_orders(MARKET, [req("a")], customer_ref="a")
    assert matched.outcome is Outcome.DONE
    assert matched.status is ExchangeOrderStatus.EXECUTION_COMPLETE
    assert (matched.size_matched, matched.average_price_matched) == (10.0, 2.0)
    [resting] = await port_.place_orders(MARKET, [req("b", price=2.2)])
    assert resting.status is ExchangeOrderStatus.EXECUTABLE
    current = await port_.list_current_orders(market_ids=[MARKET], customer_order_refs=["b"])
    assert [(o.customer_order_ref, o.size_remaining, o.price) for o in current] == [
        ("b", 10.0, 2.2)
    ]
    [replaced] = await port_.replace_orders(MARKET, [(resting.bet_id, 2.3)])
    assert replaced.outcome is Outcome.DONE
    assert replaced.place is not None and replaced.place.bet_id != resting.bet_id
    [cancelled] = await port_.cancel_orders(MARKET, [replaced.place.bet_id])
    assert (cancelled.outcome, cancelled.size_cancelled) == (Outcome.DONE, 10.0)
    [again] = await port_.cancel_orders(MARKET, [replaced.place.bet_id])
    assert (again.outcome, again.failure, again.error_code) == (
        Outcome.REJECTED,
        FailureKind.BET_ACTION_ERROR,
        "BET_TAKEN_OR_LAPSED",
    )


async def test_insufficient_funds_is_rejected(served):
    _, port_, _ = served
    [report] = await port_.place_orders(MARKET, [req("x", price=3.0, size=60.0, side=Side.LAY)])
    assert (report.outcome, report.failure, report.error_code) == (
        Outcome.REJECTED,
        FailureKind.INSUFFICIENT_FUNDS,
        "INSUFFICIENT_FUNDS",
    )


async def test_market_suspended_and_closed(served):
    server, port_, _ = served
    server.feed(definition=market_definition((1, 2), status="SUSPENDED"))
    [report] = await port_.place_orders(MARKET, [req("s")])
    assert (report.outcome, report.failure) == (Outcome.REJECTED, FailureKind.MARKET_SUSPENDED)
    [unknown_market] = await port_.place_orders("1.999", [req("s")])
    assert unknown_market.failure is FailureKind.MARKET_CLOSED


async def test_bet_action_error_maps_to_invalid_order(served):
    _, port_, _ = served
    [report] = await port_.place_orders(MARKET, [req("o", price=2.03)])
    assert (report.outcome, report.failure, report.error_code) == (
        Outcome.REJECTED,
        FailureKind.INVALID_ORDER,
        "INVALID_ODDS",
    )


async def test_duplicate_customer_ref_means_unknown(served):
    _, port_, _ = served
    await port_.place_orders(MARKET, [req("d", price=2.2)], customer_ref="d")
    [report] = await port_.place_orders(MARKET, [req("d", price=2.2)], customer_ref="d")
    assert (report.outcome, report.failure) == (Outcome.UNKNOWN, FailureKind.DUPLICATE)


async def test_missing_session_is_an_auth_rejection(served):
    _, _, port = served
    async with aiohttp.ClientSession() as session:
        transport = HttpJsonRpcTransport(
            session, f"http://127.0.0.1:{port}/exchange/", "k", lambda: "", timeout_s=2
        )
        client = BetfairBetting(transport)
        [report] = await client.place_orders(MARKET, [req("z")])
        assert (report.outcome, report.failure, report.error_code) == (
            Outcome.REJECTED,
            FailureKind.AUTH,
            "NO_SESSION",
        )
        with pytest.raises(ExchangeUnavailableError, match="NO_SESSION"):
            await client.list_current_orders()


async def test_timeout_and_server_errors_are_unknown():
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.json_response({"jsonrpc": "2.0", "result": {}, "id": 1})

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="busy")

    app = web.Application()
    app.router.add_post("/slow/betting/json-rpc/v1", slow)
    app.router.add_post("/broken/betting/json-rpc/v1", broken)
    runner, port = await start(app)
    try:
        async with aiohttp.ClientSession() as session:
            slow_port = BetfairBetting(
                HttpJsonRpcTransport(
                    session, f"http://127.0.0.1:{port}/slow/", "k", lambda: "t", timeout_s=0.05
                )
            )
            [report] = await slow_port.place_orders(MARKET, [req("t")])
            assert (report.outcome, report.failure) == (Outcome.UNKNOWN, FailureKind.TIMEOUT)
            broken_port = BetfairBetting(
                HttpJsonRpcTransport(
                    session, f"http://127.0.0.1:{port}/broken/", "k", lambda: "t", timeout_s=2
                )
            )
            [report] = await broken_port.place_orders(MARKET, [req("t")])
            assert (report.outcome, report.error_code) == (Outcome.UNKNOWN, "HTTP_503")
    finally:
        await runner.cleanup()


async def test_refused_connection_is_a_definite_rejection():
    runner, port = await start(web.Application())
    await runner.cleanup()  # nothing listens on `port` any more
    async with aiohttp.ClientSession() as session:
        client = BetfairBetting(
            HttpJsonRpcTransport(
                session, f"http://127.0.0.1:{port}/exchange/", "k", lambda: "t", timeout_s=2
            )
        )
        [report] = await client.place_orders(MARKET, [req("c")])
        assert (report.outcome, report.failure) == (Outcome.REJECTED, FailureKind.TRANSPORT)
        with pytest.raises(ExchangeUnavailableError):
            await client.list_current_orders()


async def test_list_current_orders_pages(served, monkeypatch):
    _, port_, _ = served
    monkeypatch.setattr(betting, "PAGE_SIZE", 2)
    for n in range(5):
        await port_.place_orders(MARKET, [req(f"p{n}", price=2.5, size=2.0)])
    orders = await port_.list_current_orders(market_ids=[MARKET])
    assert sorted(o.customer_order_ref for o in orders) == [f"p{n}" for n in range(5)]


async def test_cleared_orders_after_settlement(served):
    server, port_, _ = served
    await port_.place_orders(MARKET, [req("w")])
    server.feed(definition=market_definition((1, 2), status="CLOSED", winner=1))
    [cleared] = await port_.list_cleared_orders(market_ids=[MARKET])
    assert (cleared.customer_order_ref, cleared.profit, cleared.bet_outcome) == ("w", 10.0, "WIN")


async def test_rest_endpoint_and_betfairlightweight_client(served):
    _, _, port = served
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"http://127.0.0.1:{port}/exchange/betting/rest/v1.0/listCurrentOrders/",
            json={},
            headers={"X-Application": "k", "X-Authentication": "t"},
        ) as response:
            assert response.status == 200
            assert (await response.json())["currentOrders"] == []
        async with session.post(
            f"http://127.0.0.1:{port}/exchange/betting/rest/v1.0/listCurrentOrders/", json={}
        ) as response:
            assert response.status == 400
            body = await response.json()
            assert body["detail"]["APINGException"]["errorCode"] == "NO_APP_KEY"

    def place_with_betfairlightweight():
        client = betfairlightweight.APIClient("user", "pass", app_key="k", lightweight=True)
        client.set_session_token("t")
        client.api_uri = f"http://127.0.0.1:{port}/exchange/"
        instruction = betfairlightweight.filters.place_instruction(
            order_type="LIMIT",
            selection_id=1,
            side="BACK",
            limit_order=betfairlightweight.filters.limit_order(
                size=5.0, price=2.0, persistence_type="LAPSE"
            ),
            customer_order_ref="bflw",
        )
        return client.betting.place_orders(market_id=MARKET, instructions=[instruction])

    result = await asyncio.to_thread(place_with_betfairlightweight)
    assert result["status"] == "SUCCESS"
    assert result["instructionReports"][0]["sizeMatched"] == 5.0
