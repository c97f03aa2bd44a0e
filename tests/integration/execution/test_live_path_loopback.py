"""The live code path end to end on loopback: the order manager bets over HTTP JSON-RPC against
the simulator's betting routes on the loopback exchange server, and follows its orders through the
real stream client's order subscription (no polling) — journal updated from the order stream."""

import asyncio

import aiohttp

from adapters.betfair.betting import BetfairBetting, HttpJsonRpcTransport
from adapters.betfair.loopback.recording import RecordedChange, Recording
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.betfair.messages import ChangeMessage
from adapters.betfair.stream_client import StaticCredentials, StreamClient, StreamClientConfig
from adapters.simexchange import SimExchange, SimExchangeConfig
from adapters.simexchange.loopback import betting_registrar, publish_order_changes
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.execution.config import OrdersConfig, RiskConfig, StakingConfig
from engine.execution.journal import Journal, OrderState
from engine.execution.order_stream import read_order_changes
from engine.execution.orders import OrderDecision, OrderManager
from engine.execution.positions import PositionBook
from engine.execution.risk import RiskManager
from engine.execution.types import MarketState, Side
from engine.market import MarketCache

MARKET = "1.321"


class OrderFeed:
    """StreamConsumer: hands order-change messages to an async pump (decisions stay sync)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ChangeMessage] = asyncio.Queue()

    def on_market_change(self, message: ChangeMessage) -> None:
        pass

    def on_order_change(self, message: ChangeMessage) -> None:
        self.queue.put_nowait(message)

    def on_subscription_reset(self, op: str) -> None:
        pass


async def pump(feed: OrderFeed, manager: OrderManager) -> None:
    while True:
        message = await feed.queue.get()
        for order in read_order_changes(message.changes).orders:
            await manager.apply_exchange_order(order, kind="order_stream")


async def wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_order_stream_drives_the_journal(tmp_path):
    clock = ManualClock()
    cache = MarketCache(record_level_changes=True)
    sim = SimExchange(SimExchangeConfig(latency_ms=0), clock)
    change = market_change(
        MARKET,
        definition=market_definition((1, 2)),
        runners=[runner_change(1, atb=[(2.0, 100)], atl=[(2.02, 100)])],
        image=True,
    )
    update = cache.apply(change, clock())
    assert update is not None
    sim.on_market_update(update)
    loopback = LoopbackExchange(
        Recording([RecordedChange(clock(), [change])]),
        LoopbackConfig(app_key="key"),
        route_registrars=[betting_registrar(sim)],
        order_image=sim.order_stream_image,
    )
    async with loopback, aiohttp.ClientSession() as session:
        token = loopback.issue_session()
        api = f"http://127.0.0.1:{loopback.http_port}/exchange/"
        journal = await Journal.open(tmp_path / "journal.sqlite")
        positions = PositionBook()
        risk = RiskManager(RiskConfig(), StakingConfig(), positions, clock)
        manager = OrderManager(
            journal,
            BetfairBetting(HttpJsonRpcTransport(session, api, "key", lambda: token)),
            risk,
            positions,
            now_ms=clock,
            config=OrdersConfig(),
        )
        await manager.start([MARKET])
        feed = OrderFeed()
        client = StreamClient(
            StreamClientConfig(host="127.0.0.1", port=loopback.port, tls=False),
            StaticCredentials("key", token),
            feed,
        )
        tasks = [asyncio.create_task(client.run()), asyncio.create_task(pump(feed, manager))]
        try:
            await asyncio.wait_for(client.wait_connected(), 20)
            state = MarketState(MARKET, "OPEN", runner_ids=(1, 2), event_id="1")
            decision = OrderDecision("live", "d1", MARKET, 1, Side.BACK, 2.02, 10.0)
            result = await manager.submit(decision, state)
            assert result.state is OrderState.EXECUTABLE

            update = cache.apply(
                market_change(MARKET, runners=[runner_change(1, trd=[(2.02, 210)])]), clock()
            )
            assert update is not None
            sim.on_market_update(update)  # 105 matched at 2.02: 100 ahead of us, 5 to us
            assert publish_order_changes(sim, loopback) == 1
            await wait_for(lambda: manager.orders[result.ref].size_matched == 5)

            kinds = [e.kind for e in await journal.events(result.ref)]
            assert kinds[:2] == ["intent", "placed"]
            assert "order_stream" in kinds
            assert manager.positions.market(MARKET).pnl_if(1) == 5 * 1.02
        finally:
            client.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await journal.close()
