"""Fault tests: the live stream client against the loopback exchange replaying a real tennis market.

Each test injects a fault, lets the client recover, and demands that the market cache it fed
(engine.market.MarketCache through StreamProcessor) equals the cache of an uninterrupted replay of
the same file: every price level, traded volume, last traded price, status and in-play flag.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.betfair.historical import replay_market_updates
from adapters.betfair.loopback.faults import FaultPlan
from adapters.betfair.loopback.recording import Recording
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.betfair.loopback.stream_server import StreamServerSettings
from adapters.betfair.messages import ChangeMessage
from adapters.betfair.processor import StreamProcessor
from adapters.betfair.stream_client import (
    StaticCredentials,
    StreamClient,
    StreamClientConfig,
)
from adapters.betfair.stream_protocol import MARKET_SUBSCRIPTION
from engine.market import MarketCache

TENNIS = Path("betfair/historical/tennis_wimbledon2018_1.145329255.bz2")
APP_KEY = "loopback-app-key"


def snapshot(cache: MarketCache) -> dict[str, Any]:
    """Everything a strategy can read from the cache, in comparable form."""
    markets: dict[str, Any] = {}
    for book in cache:
        runners = {
            key: (
                runner.status,
                runner.ltp,
                runner.tv,
                list(runner.atb.levels()),
                list(runner.atl.levels()),
                list(runner.trd.levels()),
            )
            for key, runner in book.runners.items()
        }
        markets[book.market_id] = (
            book.status,
            book.inplay,
            book.bet_delay,
            book.version,
            book.tv,
            book.publish_time,
            runners,
        )
    return markets


class CacheConsumer:
    """What the engine does with the stream: feed the market cache, synchronously."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.processor = StreamProcessor()
        self.resets = 0
        self.delay_s = delay_s
        self.market_messages = 0

    def on_market_change(self, message: ChangeMessage) -> None:
        self.market_messages += 1
        if self.delay_s:
            import time

            time.sleep(self.delay_s)
        self.processor.process(message)

    def on_order_change(self, message: ChangeMessage) -> None:
        self.processor.process(message)

    def on_subscription_reset(self, op: str) -> None:
        if op == MARKET_SUBSCRIPTION:
            self.resets += 1
            self.processor.cache.clear()


@pytest.fixture(scope="module")
def recording(shared_data: Path) -> Recording:
    return Recording.load(shared_data / TENNIS)


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> dict[str, Any]:
    processor = StreamProcessor()
    for _update in replay_market_updates(shared_data / TENNIS, processor):
        pass
    return snapshot(processor.cache)


def client_config(port: int, **overrides: Any) -> StreamClientConfig:
    base = StreamClientConfig(
        host="127.0.0.1",
        port=port,
        tls=False,
        heartbeat_ms=500,
        heartbeat_timeout_factor=3.0,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        request_timeout_s=5.0,
    )
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def loopback(
    recording: Recording, faults: FaultPlan | None = None, **settings: Any
) -> AsyncIterator[LoopbackExchange]:
    tls = settings.pop("tls", False)
    config = LoopbackConfig(tls=tls, http_port=None, stream=StreamServerSettings(**settings))
    exchange = LoopbackExchange(recording, config, faults=faults)
    await exchange.start()
    try:
        yield exchange
    finally:
        await exchange.stop()


async def run_until_complete(
    exchange: LoopbackExchange,
    consumer: CacheConsumer,
    config: StreamClientConfig,
    credentials: Any = None,
    timeout_s: float = 60.0,
) -> StreamClient:
    """Run the client until it holds the clk of the recording's last message."""
    client = StreamClient(
        config, credentials or StaticCredentials(APP_KEY, exchange.issue_session()), consumer
    )
    task = asyncio.create_task(client.run())
    try:
        async with asyncio.timeout(timeout_s):
            while client.market_state.clk != exchange.stream.end_clk:
                if task.done():
                    task.result()  # surfaces a fatal error
                    raise AssertionError("client stopped before the end of the stream")
                await asyncio.sleep(0.02)
    finally:
        client.stop()
        await asyncio.wait_for(task, timeout=5)
    return client


async def test_uninterrupted_stream_equals_file_replay(recording, reference):
    async with loopback(recording, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert snapshot(consumer.processor.cache) == reference
    assert client.counters.reconnects == 0
    assert consumer.processor.counters.market_updates == len(recording)
    assert client.counters.conflated_changes == len(recording)  # every change of this file is con


async def test_several_disconnects_resume_without_loss(recording, reference):
    faults = FaultPlan(drop_after=[500, 2500, 4000, 6000])
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))
        dropped = exchange.stream.stats.dropped_connections

    assert dropped == 4
    assert client.counters.reconnects == 4
    assert consumer.resets == 1  # one fresh image at the start; every reconnect resumed
    assert consumer.processor.counters.market_updates == len(recording)  # none lost or repeated
    assert snapshot(consumer.processor.cache) == reference


async def test_garbage_line_is_counted_and_survived(recording, reference):
    faults = FaultPlan(garbage_before=3000)
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.malformed_lines == 1
    assert snapshot(consumer.processor.cache) == reference


async def test_corrupted_message_is_fetched_again(recording, reference):
    faults = FaultPlan(corrupt_at=3000)
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.malformed_lines == 1
    assert client.counters.reconnects == 1
    assert consumer.processor.counters.market_updates == len(recording)
    assert snapshot(consumer.processor.cache) == reference


async def test_duplicated_message_is_dropped(recording, reference):
    faults = FaultPlan(duplicate_at=2000)
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.duplicates_dropped == 1
    assert consumer.processor.counters.market_updates == len(recording)
    assert snapshot(consumer.processor.cache) == reference


async def test_reordered_messages_trigger_a_fresh_image(recording, reference):
    pts = [message.pt for message in recording.messages]
    position = next(i for i in range(4000, len(pts) - 1) if pts[i] < pts[i + 1])
    faults = FaultPlan(reorder_at=position)
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.integrity_errors == 1
    assert consumer.resets == 2  # the suspect cache was dropped and rebuilt from a fresh image
    assert snapshot(consumer.processor.cache) == reference


async def test_heartbeats_only_keep_the_connection(recording, reference):
    faults = FaultPlan(heartbeats_only_at=1000, heartbeats_only_count=3)
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.heartbeats >= 3
    assert client.counters.heartbeat_timeouts == 0
    assert client.counters.reconnects == 0
    assert snapshot(consumer.processor.cache) == reference


async def test_silent_server_trips_heartbeat_timeout_and_resumes(recording, reference):
    faults = FaultPlan(stall_at=1500, stall_s=3.5)
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.heartbeat_timeouts == 1  # 500 ms heartbeat x 3 < 3.5 s of silence
    assert client.counters.reconnects == 1
    assert consumer.processor.counters.market_updates == len(recording)
    assert snapshot(consumer.processor.cache) == reference


async def test_slow_consumer_recovers_everything(recording, reference):
    consumer = CacheConsumer(delay_s=0.0001)
    async with loopback(recording, FaultPlan(drop_after=[3000]), speed=0) as exchange:
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    assert client.counters.heartbeat_timeouts == 0
    assert snapshot(consumer.processor.cache) == reference


async def test_server_memory_is_bounded_by_a_slow_reader(recording):
    async with loopback(recording, speed=0, send_buffer_bytes=16384) as exchange:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", exchange.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        await reader.readuntil(b"\r\n")
        token = exchange.issue_session()
        writer.write(
            b'{"op":"authentication","id":1,"appKey":"%s","session":"%s"}\r\n'
            % (APP_KEY.encode(), token.encode())
        )
        writer.write(b'{"op":"marketSubscription","id":2,"marketFilter":{}}\r\n')
        received = 0
        for _ in range(60):  # read ~240 KB slowly while the server has ~5 MB to send
            received += len(await reader.read(4096))
            await asyncio.sleep(0.005)
        stats = exchange.stream.stats
        writer.close()

    assert received > 0
    assert stats.bytes_sent < 1_500_000  # of ~3.4 MB: held back by the reader
    assert 0 < stats.max_write_buffer_bytes < 512 * 1024  # back-pressure, not a growing queue


async def test_all_faults_in_one_run(recording, reference):
    pts = [message.pt for message in recording.messages]
    reorder = next(i for i in range(12000, len(pts) - 1) if pts[i] < pts[i + 1])
    faults = FaultPlan(
        drop_after=[800, 1500],
        garbage_before=3500,
        corrupt_at=5000,
        duplicate_at=6000,
        heartbeats_only_at=7000,
        heartbeats_only_count=2,
        stall_at=9000,
        stall_s=3.0,
        reorder_at=reorder,
    )
    async with loopback(recording, faults, speed=0) as exchange:
        consumer = CacheConsumer()
        client = await run_until_complete(exchange, consumer, client_config(exchange.port))

    counters = client.counters
    assert counters.malformed_lines == 2
    assert counters.duplicates_dropped >= 1
    assert counters.heartbeat_timeouts == 1
    assert counters.integrity_errors == 1
    assert snapshot(consumer.processor.cache) == reference


async def test_tls_with_the_generated_certificate(recording, reference):
    async with loopback(recording, speed=0, tls=True) as exchange:
        consumer = CacheConsumer()
        config = client_config(
            exchange.port, tls=True, ca_file=exchange.ca_file, server_hostname="localhost"
        )
        client = await run_until_complete(exchange, consumer, config)

    assert client.counters.connects == 1
    assert snapshot(consumer.processor.cache) == reference


async def test_tls_refuses_an_untrusted_certificate(recording):
    async with loopback(recording, speed=0, tls=True) as exchange:
        consumer = CacheConsumer()
        config = client_config(exchange.port, tls=True, server_hostname="localhost")
        client = StreamClient(
            config, StaticCredentials(APP_KEY, exchange.issue_session()), consumer
        )
        task = asyncio.create_task(client.run())
        async with asyncio.timeout(20):
            while client.counters.connect_failures < 2:
                await asyncio.sleep(0.02)
        client.stop()
        await asyncio.wait_for(task, timeout=5)

    assert client.counters.authentications == 0
    assert consumer.market_messages == 0


async def test_paced_publication_follows_speed(recording):
    # ×1000 with recorded gaps capped at 1 s: the first 200 messages span well under a second
    async with loopback(recording, speed=1000.0, max_gap_ms=1000) as exchange:
        consumer = CacheConsumer()
        client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            consumer,
        )
        task = asyncio.create_task(client.run())
        async with asyncio.timeout(20):
            while consumer.market_messages < 200:
                await asyncio.sleep(0.02)
        client.stop()
        await asyncio.wait_for(task, timeout=5)

    assert consumer.market_messages < len(recording)  # paced, not dumped
    assert client.counters.reconnects == 0


def test_client_and_server_run_on_uvloop(recording, reference):
    import uvloop

    async def scenario() -> tuple[StreamClient, CacheConsumer]:
        async with loopback(recording, FaultPlan(drop_after=[2000]), speed=0) as exchange:
            consumer = CacheConsumer()
            client = await run_until_complete(exchange, consumer, client_config(exchange.port))
        return client, consumer

    client, consumer = uvloop.run(scenario())

    assert client.counters.reconnects == 1
    assert snapshot(consumer.processor.cache) == reference


async def test_late_subscriber_to_a_live_exchange_starts_from_an_image(recording, reference):
    # ×1000 real time, recorded gaps capped at 100 ms: the whole match is published in ~1.5 s
    async with loopback(recording, speed=1000.0, max_gap_ms=100) as exchange:
        early, late = CacheConsumer(), CacheConsumer()
        early_client = StreamClient(
            client_config(exchange.port),
            StaticCredentials(APP_KEY, exchange.issue_session()),
            early,
        )
        early_task = asyncio.create_task(early_client.run())
        async with asyncio.timeout(30):
            while early.processor.counters.market_updates < 4000:
                await asyncio.sleep(0.01)
        late_client = await run_until_complete(exchange, late, client_config(exchange.port))
        async with asyncio.timeout(30):
            while early_client.market_state.clk != exchange.stream.end_clk:
                await asyncio.sleep(0.02)
        early_client.stop()
        await asyncio.wait_for(early_task, timeout=5)

    assert snapshot(late.processor.cache) == reference
    assert snapshot(early.processor.cache) == reference
    assert late.processor.cache.counters.images == 1  # the SUB_IMAGE carried the market
    assert late.processor.counters.market_updates < len(recording) - 3000  # no replay from 0
    assert late_client.counters.reconnects == 0
