"""The score-feed WebSocket client against the loopback provider, with faults injected."""

from __future__ import annotations

import asyncio
import random

import orjson
from aiohttp import ClientSession, WSMsgType

from adapters.scores.loopback import LoopbackScoreServer
from adapters.scores.wsclient import ResumePoint, ScoreFeedClient, backoff_delay
from engine.physics.rules import MatchRules
from engine.score.book import ScoreBook
from engine.score.config import ScoresConfig
from engine.score.stats import TickOutcome
from engine.score.synthetic import simulate_match_ticks
from engine.score.ticks import Point, ScoreTick

FAST = ScoresConfig(backoff_initial_s=0.01, backoff_max_s=0.05, heartbeat_s=0.0)


async def _wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


async def test_reconnects_and_resumes_without_loss_or_duplicates() -> None:
    # Arrange: two matches published before and during the subscription; every connection is
    # cut by the server after 7 tick frames
    match_a = list(simulate_match_ticks("A", MatchRules(best_of=3), seed=1))
    match_b = list(simulate_match_ticks("B", MatchRules(best_of=5, final_set="adv"), seed=2))
    server = LoopbackScoreServer(disconnect_after=7)
    url = await server.start()
    server.publish_all(match_a[:20])
    book = ScoreBook()
    received: list[ScoreTick] = []

    def on_tick(tick: ScoreTick) -> None:
        received.append(tick)
        book.apply(tick)

    client = ScoreFeedClient(
        url,
        on_tick,
        ["A", "B"],
        FAST,
        resume=lambda: ResumePoint(book.resume_seqs(), tuple(book.needing_snapshot())),
        rng=random.Random(0),
    )
    task = asyncio.create_task(client.run())
    try:
        # Act: publish the rest live while connections keep dropping
        await _wait_until(lambda: client.stats.connects >= 2)
        for tick in [*match_a[20:], *match_b]:
            server.publish(tick)
            await asyncio.sleep(0)
        total = len(match_a) + len(match_b)
        await _wait_until(lambda: book.stats.total(TickOutcome.APPLIED) == total)
    finally:
        client.stop()
        await task
        await server.stop()

    # Assert: every tick applied exactly once, in order, both matches finished and trusted
    assert [t for t in received if t.match_id == "A"] == match_a
    assert [t for t in received if t.match_id == "B"] == match_b
    assert client.stats.connects > 3
    assert server.connections_accepted == client.stats.connects
    for match_id, ticks in (("A", match_a), ("B", match_b)):
        machine = book.get(match_id)
        assert machine is not None
        assert machine.trusted and machine.status == "finished"
        assert machine.last_seq == ticks[-1].seq
    assert book.stats.total(TickOutcome.GAP) == 0
    assert book.stats.total(TickOutcome.DUPLICATE) == 0


async def test_untrusted_match_is_resynchronised_by_snapshot_on_request() -> None:
    # Arrange: the client loses tick 6 of match A (the engine sees a gap)
    ticks = list(simulate_match_ticks("A", seed=3))
    server = LoopbackScoreServer()
    url = await server.start()
    book = ScoreBook()

    def lossy(tick: ScoreTick) -> None:
        if not (tick.seq == 6 and isinstance(tick, Point)):
            book.apply(tick)

    client = ScoreFeedClient(url, lossy, ["A"], FAST)
    task = asyncio.create_task(client.run())
    try:
        await _wait_until(client.subscribed.is_set)
        server.publish_all(ticks[:12])
        await _wait_until(lambda: client.delivered_seq.get("A") == 12)
        machine = book.get("A")
        assert machine is not None and not machine.trusted

        # Act
        assert await client.request_snapshot(["A"])
        await _wait_until(lambda: machine.trusted)
    finally:
        client.stop()
        await task
        await server.stop()

    # Assert: state equals the provider's after 12 ticks
    assert machine.last_seq == 12
    assert book.stats.counts[("gap", "gap")] == 1
    assert book.stats.counts[("resynced", "snapshot")] == 1
    reference = ScoreBook()
    for tick in ticks[:12]:
        reference.apply(tick)
    ref_machine = reference.get("A")
    assert ref_machine is not None and ref_machine.score is not None and machine.score is not None
    assert machine.score.key() == ref_machine.score.key()


async def test_bad_frames_are_counted_and_the_feed_keeps_going() -> None:
    # Arrange: a raw subscriber sends a malformed request; the server answers with an error frame
    server = LoopbackScoreServer()
    url = await server.start()
    try:
        async with ClientSession() as session, session.ws_connect(url) as ws:
            # Act
            await ws.send_str('{"op": "subscribe", "matches": 7}')
            msg = await asyncio.wait_for(ws.receive(), 5)
    finally:
        await server.stop()

    # Assert
    assert msg.type == WSMsgType.TEXT
    body = orjson.loads(msg.data)
    assert body["op"] == "error"
    assert body["message"].startswith("subscribe.matches:")


def test_client_counts_malformed_tick_frames_without_delivering_them() -> None:
    # Arrange
    delivered: list[ScoreTick] = []
    client = ScoreFeedClient("ws://127.0.0.1:1/scores", delivered.append, "all", FAST)

    # Act
    client._on_frame("not json")
    client._on_frame('{"v": 1, "type": "point", "match_id": "A", "seq": 2, "ts": 1.0}')
    client._on_frame('{"op": "heartbeat", "ts": 1.0}')
    client._on_frame('{"v":1,"type":"point","match_id":"A","seq":2,"ts":1.0,"server":1,"winner":2}')

    # Assert
    assert client.stats.malformed == {"json": 1, "point.server": 1}
    assert client.stats.heartbeats == 1
    assert [t.seq for t in delivered] == [2]
    assert client.delivered_seq == {"A": 2}


def test_backoff_grows_exponentially_to_the_cap_with_bounded_jitter() -> None:
    # Arrange
    config = ScoresConfig(backoff_initial_s=0.5, backoff_max_s=4.0, backoff_jitter=0.1)
    rng = random.Random(7)

    # Act
    delays = [backoff_delay(attempt, config, rng) for attempt in range(1, 8)]

    # Assert
    bases = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, base in zip(delays, bases, strict=True):
        assert base * 0.9 <= delay <= base * 1.1


async def test_publish_file_in_accelerated_time_reaches_a_late_subscriber(tmp_path) -> None:
    # Arrange: a recorded file with 30 s between points, played 100,000x faster than real time
    from adapters.scores.tickfile import write_ticks

    ticks = list(simulate_match_ticks("F", seed=9))[:40]
    path = tmp_path / "f.jsonl.gz"
    write_ticks(path, ticks)
    server = LoopbackScoreServer()
    url = await server.start()
    received: list[ScoreTick] = []
    client = ScoreFeedClient(url, received.append, ["F"], FAST)
    task = asyncio.create_task(client.run())
    try:
        # Act
        published = await server.publish_file(path, speed=100_000.0)
        await _wait_until(lambda: len(received) == len(ticks))
    finally:
        client.stop()
        await task
        await server.stop()

    # Assert
    assert published == len(ticks)
    assert received == ticks
