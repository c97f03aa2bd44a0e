"""Status error codes, session expiry, clock refusal, stale data and segmentation — client against
the loopback exchange (short runs of the real tennis file)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.betfair.loopback.faults import FaultPlan
from adapters.betfair.loopback.recording import RecordedChange, Recording
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.betfair.loopback.stream_server import StreamServerSettings
from adapters.betfair.messages import ChangeMessage
from adapters.betfair.processor import StreamProcessor
from adapters.betfair.session import BetfairConfig, BetfairSession, Credentials
from adapters.betfair.stream_client import StaticCredentials, StreamClient, StreamClientConfig
from adapters.betfair.stream_config import live_stream_client
from adapters.betfair.stream_protocol import MARKET_SUBSCRIPTION, StreamFatalError

TENNIS = Path("betfair/historical/tennis_wimbledon2018_1.145329255.bz2")
APP_KEY = "loopback-app-key"
HEAD = 1500  # messages of the real file used per test: enough to cross pre-play and in-play data


class CacheConsumer:
    def __init__(self) -> None:
        self.processor = StreamProcessor()
        self.resets = 0

    def on_market_change(self, message: ChangeMessage) -> None:
        self.processor.process(message)

    def on_order_change(self, message: ChangeMessage) -> None:
        self.processor.process(message)

    def on_subscription_reset(self, op: str) -> None:
        if op == MARKET_SUBSCRIPTION:
            self.resets += 1
            self.processor.cache.clear()


def book_state(processor: StreamProcessor) -> list[Any]:
    state = [
        (
            book.market_id[-3:],
            book.status,
            book.inplay,
            runner.selection_id,
            runner.ltp,
            list(runner.atb.levels()),
            list(runner.atl.levels()),
            list(runner.trd.levels()),
        )
        for book in processor.cache
        for runner in book.runners.values()
    ]
    return sorted(state, key=repr)


@pytest.fixture(scope="module")
def recording(shared_data: Path) -> Recording:
    full = Recording.load(shared_data / TENNIS)
    return Recording(full.messages[:HEAD], full.source)


@pytest.fixture(scope="module")
def reference(recording: Recording) -> list[Any]:
    processor = StreamProcessor()
    for message in recording.messages:
        for change in message.changes:
            processor.cache.apply(change, message.pt)
    return book_state(processor)


def client_config(port: int, **overrides: Any) -> StreamClientConfig:
    base = StreamClientConfig(
        host="127.0.0.1",
        port=port,
        tls=False,
        heartbeat_ms=500,
        heartbeat_timeout_factor=2.0,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        request_timeout_s=5.0,
    )
    return replace(base, **overrides)


def exchange_for(
    recording: Recording,
    faults: FaultPlan | None = None,
    *,
    http: bool = False,
    speed_override: float = 0.0,
    **settings: Any,
) -> LoopbackExchange:
    config = LoopbackConfig(
        http_port=0 if http else None,
        stream=StreamServerSettings(speed=speed_override, **settings),
    )
    return LoopbackExchange(recording, config, faults=faults)


async def run_to_end(
    exchange: LoopbackExchange, client: StreamClient, timeout_s: float = 30.0
) -> None:
    task = asyncio.create_task(client.run())
    try:
        async with asyncio.timeout(timeout_s):
            while client.market_state.clk != exchange.stream.end_clk:
                if task.done():
                    task.result()
                    raise AssertionError("client stopped early")
                await asyncio.sleep(0.02)
    finally:
        client.stop()
        await asyncio.wait_for(task, timeout=5)


@pytest.mark.parametrize(
    "code",
    [
        "NO_APP_KEY",
        "INVALID_APP_KEY",
        "NOT_AUTHORIZED",
        "INVALID_INPUT",
        "INVALID_REQUEST",
        "SUBSCRIPTION_LIMIT_EXCEEDED",
    ],
)
async def test_permanent_errors_stop_the_client_with_the_code(recording, code):
    async with exchange_for(recording, FaultPlan(auth_errors=[code])) as exchange:
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            CacheConsumer(),
        )
        with pytest.raises(StreamFatalError, match=code):
            await asyncio.wait_for(client.run(), timeout=10)

    assert client.fatal_error is not None and code in client.fatal_error
    assert client.counters.connects == 1  # gave up at once: retrying cannot help


async def test_wrong_app_key_is_refused_by_the_server(recording):
    async with exchange_for(recording) as exchange:
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials("not-the-key", exchange.issue_session()),
            CacheConsumer(),
        )
        with pytest.raises(StreamFatalError, match="INVALID_APP_KEY"):
            await asyncio.wait_for(client.run(), timeout=10)


async def test_subscription_limit_is_surfaced_clearly(recording):
    async with exchange_for(recording, subscription_limit=0) as exchange:
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            CacheConsumer(),
        )
        with pytest.raises(StreamFatalError, match=r"SUBSCRIPTION_LIMIT_EXCEEDED.*narrow"):
            await asyncio.wait_for(client.run(), timeout=10)

    assert client.counters.connects == 1


async def test_a_session_that_stays_invalid_ends_after_bounded_relogins(recording):
    async with exchange_for(recording) as exchange:
        client = StreamClient(
            client_config(exchange.port, max_consecutive_relogins=2),
            StaticCredentials(APP_KEY, "expired-token"),
            CacheConsumer(),
        )
        with pytest.raises(StreamFatalError, match="INVALID_SESSION_INFORMATION"):
            await asyncio.wait_for(client.run(), timeout=10)

    assert client.counters.relogins == 2
    assert client.counters.status_errors["INVALID_SESSION_INFORMATION"] == 3


async def test_transient_errors_are_retried_until_the_stream_completes(recording, reference):
    transient = [
        "TOO_MANY_REQUESTS",
        "CONNECTION_FAILED",
        "UNEXPECTED_ERROR",
        "TIMEOUT",
        "MAX_CONNECTION_LIMIT_EXCEEDED",
        "NO_SESSION",
    ]
    async with exchange_for(recording, FaultPlan(auth_errors=list(transient))) as exchange:
        consumer = CacheConsumer()
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            consumer,
        )
        await run_to_end(exchange, client)

    assert {code: client.counters.status_errors[code] for code in transient} == dict.fromkeys(
        transient, 1
    )
    assert client.counters.relogins == 1  # NO_SESSION
    assert book_state(consumer.processor) == reference


async def test_refused_clock_falls_back_to_a_fresh_image(recording, reference):
    async with exchange_for(recording) as exchange:
        consumer = CacheConsumer()
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            consumer,
        )
        client.market_state.initial_clk = "from-another-server"
        client.market_state.clk = "from-another-server"
        await run_to_end(exchange, client)

    assert client.counters.status_errors["INVALID_CLOCK"] == 1
    assert book_state(consumer.processor) == reference


async def test_session_expiry_logs_in_again_through_betfairlightweight(recording, reference):
    faults = FaultPlan(expire_session_at=700)
    async with exchange_for(recording, faults, http=True) as exchange:
        session = BetfairSession(
            BetfairConfig(login="interactive", identity_url=exchange.identity_url),
            Credentials("loopback", "loopback", APP_KEY),
        )
        consumer = CacheConsumer()
        client = StreamClient(client_config(exchange.port), session, consumer)
        await run_to_end(exchange, client)
        await session.close()

    assert session.logins == 2
    assert client.counters.status_errors["INVALID_SESSION_INFORMATION"] == 1
    assert client.counters.relogins == 1
    assert consumer.resets == 1  # the new session resumed from clk: no fresh image
    assert book_state(consumer.processor) == reference


async def test_stale_flag_follows_status_503(recording):
    faults = FaultPlan(stale_from=100, stale_until=300)
    async with exchange_for(recording, faults) as exchange:
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            CacheConsumer(),
        )
        await run_to_end(exchange, client)

    assert client.counters.stale_messages == 200
    assert client.market_state.stale is False  # fresh data cleared it


async def test_segmented_messages_are_reassembled(recording):
    twin = "1.999999999"
    messages = [
        RecordedChange(m.pt, [*m.changes, *({**c, "id": twin} for c in m.changes)])
        for m in recording.messages
    ]
    doubled = Recording(messages)
    async with exchange_for(doubled, segment_max_changes=1) as exchange:
        consumer = CacheConsumer()
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            consumer,
        )
        await run_to_end(exchange, client)

    state = book_state(consumer.processor)
    original = [row[1:] for row in state if row[0] != twin[-3:]]
    copied = [row[1:] for row in state if row[0] == twin[-3:]]
    assert client.counters.segments == 2 * len(doubled)
    assert copied == original and original


async def test_refused_login_stops_the_client(recording):
    async with exchange_for(recording, http=True) as exchange:
        session = BetfairSession(
            BetfairConfig(login="interactive", identity_url=exchange.identity_url),
            Credentials("loopback", "wrong-password", APP_KEY),
        )
        client = StreamClient(client_config(exchange.port), session, CacheConsumer())
        with pytest.raises(StreamFatalError, match="INVALID_USERNAME_OR_PASSWORD"):
            await asyncio.wait_for(client.run(), timeout=10)
        await session.close()

    assert client.fatal_error is not None


async def test_unreachable_identity_service_is_retried_not_fatal(recording):
    async with exchange_for(recording) as exchange:
        session = BetfairSession(
            BetfairConfig(login="interactive", identity_url="http://127.0.0.1:9/api/"),
            Credentials("loopback", "loopback", APP_KEY),
        )
        client = StreamClient(client_config(exchange.port), session, CacheConsumer())
        task = asyncio.create_task(client.run())
        async with asyncio.timeout(20):
            while client.counters.reconnects < 3:
                await asyncio.sleep(0.02)
        client.stop()
        await asyncio.wait_for(task, timeout=5)
        await session.close()

    assert client.fatal_error is None
    assert client.counters.authentications == 0


async def test_engine_toml_settings_wire_a_working_client(recording, reference):
    async with exchange_for(recording, http=True) as exchange:
        config = {
            "betfair": {"login": "interactive", "identity_url": exchange.identity_url},
            "stream": {
                "host": "127.0.0.1",
                "port": exchange.port,
                "tls": False,
                "heartbeat_ms": 500,
                "market_filter": {"event_type_ids": ["2"], "market_types": ["MATCH_ODDS"]},
            },
        }
        environ = {
            "BETFAIR_USERNAME": "loopback",
            "BETFAIR_PASSWORD": "loopback",
            "BETFAIR_APP_KEY": APP_KEY,
        }
        consumer = CacheConsumer()
        client, session = live_stream_client(config, consumer, environ)
        await run_to_end(exchange, client)
        await session.close()

    assert session.logins == 1
    assert book_state(consumer.processor) == reference


async def test_operator_expiring_a_session_forces_a_relogin(shared_data):
    full = Recording.load(shared_data / TENNIS)
    async with exchange_for(full, http=True, speed_override=200.0) as exchange:
        session = BetfairSession(
            BetfairConfig(login="interactive", identity_url=exchange.identity_url),
            Credentials("loopback", "loopback", APP_KEY),
        )
        consumer = CacheConsumer()
        client = StreamClient(client_config(exchange.port), session, consumer)
        task = asyncio.create_task(client.run())
        async with asyncio.timeout(20):
            while consumer.processor.counters.market_updates < 50:
                await asyncio.sleep(0.01)
        first_token = await session.session_token()
        exchange.stream.expire_session(first_token)
        async with asyncio.timeout(20):
            while client.counters.relogins < 1 or not client.counters.authentications >= 2:
                await asyncio.sleep(0.01)
        client.stop()
        await asyncio.wait_for(task, timeout=5)
        await session.close()

    assert session.logins == 2
    assert client.counters.status_errors["INVALID_SESSION_INFORMATION"] == 1
