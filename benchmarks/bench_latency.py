"""Socket-to-decision latency of the engine, and its memory with many concurrent matches.

Two processes, as in production: a FEEDER process runs the loopback exchange (stream socket) and the
loopback score provider (WebSocket) publishing the bundled sample day at ×speed (optionally each
match copied N times under new market/match ids); this process runs the engine behind the real
stream client and score client, with full-size untrained emulators (GRU: 2×128; Transformer:
4 layers, d 128, KV cache — latency does not depend on the weights) exported by training/.

Measured per event, in the engine process (perf_counter_ns):
- market event: from the stream client's socket read returning the chunk that holds the message
  to the end of the engine's decision for it (orjson parse, cache update, gate, publish);
- point: from the score client handing over the decoded tick to the end of the decision (score
  machine, physics + what-ifs, features, Emu-full step, gate, prediction record, strategy; Emu-lite
  steps right after the decision). With foresight (`--foresight on`, as the daemon), a point
  whose book has not moved since its foresight commits the token and Emu-full step taken between
  events instead of building and stepping them (engine/core/foresight.py). The WebSocket frame
  read and tick decode are not included.
- point_from_feeder_send: from the feeder handing the point to its WebSocket server to the same
  decision (perf_counter_ns is CLOCK_MONOTONIC, one clock for both processes): an upper bound that
  includes both processes' queues, the socket, the frame read and any wait behind a rehearsal.
The engine rehearses as the daemon does (`--rehearse-ms`, engine.toml daemon.rehearse_every_ms;
0 = off): a recorded point through a shadow engine every few ms (engine/core/rehearsal.py).
RSS: VmRSS of the engine process before the engine was built (imports done) and at the end of
the run (models are exported by a child process, so torch never loads into this one).

    python benchmarks/bench_latency.py                       # GRU and Transformer, 5 matches
    python benchmarks/bench_latency.py --copies 10 --kinds gru --duration 60   # 50 matches
    python benchmarks/bench_latency.py --replay 2013-wimbledon-1401   # in process, no sockets
    python benchmarks/bench_latency.py --replay 2013-wimbledon-1401 --pace sleep --speed 100
        # the same, each event handed over at its recorded time / 100 (the gaps spent asleep, as
        # the socket run's event loop spends them; --pace spin: busy-waiting instead)
    python benchmarks/bench_latency.py --kinds gru --rehearse-ms 0   # no rehearsal (A/B)
    python benchmarks/bench_latency.py --kinds gru --foresight off   # no foresight (A/B)
    python benchmarks/bench_latency.py --copies 10 --kinds gru --speed 50 --foresight-turn-us 0
        # 50 matches, one match's foresight a loop turn: market events wait less, points miss more
    python benchmarks/bench_latency.py --kinds gru --pin 1,0   # engine on CPU 1, feeder on CPU 0
    python benchmarks/bench_latency.py --kinds gru --pin 1,0 --busy-poll   # the loop never sleeps
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from adapters.app.consumer import EngineStreamConsumer
from adapters.app.daemon import stage_means_us
from adapters.app.demo import DemoDay, DemoMatch, load_demo_day
from adapters.app.execution import Execution, sim_book_listener, simulated_port, start_execution
from adapters.app.gc_freeze import freeze_startup_heap
from adapters.app.rehearsal import (
    RehearsalTimer,
    load_rehearsal_script,
    new_rehearsal,
    rehearsal_summary,
)
from adapters.app.settings import DaemonConfig
from adapters.betfair.loopback.recording import RecordedChange, Recording
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.betfair.loopback.stream_server import StreamServerSettings
from adapters.betfair.messages import ChangeMessage
from adapters.betfair.stream_client import (
    StaticCredentials,
    StreamClient,
    StreamClientConfig,
)
from adapters.scores.loopback import LoopbackScoreServer
from adapters.scores.tickfile import read_ticks
from adapters.scores.wsclient import ScoreFeedClient
from adapters.simexchange import SimExchange, SimExchangeConfig
from engine.clock import SimulatedClock
from engine.core.accelerated import AcceleratedClock
from engine.core.config import CoreConfig
from engine.core.emulators import EmulatorSet
from engine.core.engine import Engine, EngineParts
from engine.core.match import MatchContext
from engine.core.orders import OrderSink
from engine.core.rehearsal import DiscardingSink, Rehearsal
from engine.execution.config import load_execution_config
from engine.gate.config import GateConfig
from engine.logs import configure_logging
from engine.market.cache import MarketCache
from engine.market.update import MarketUpdate
from engine.metrics import EngineMetrics, Stage
from engine.registry import RegistryConfig
from engine.score.ticks import ScoreTick
from strategies.divergence import DivergenceStrategy

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
APP_KEY = "loopback-app-key"
REHEARSAL_MATCH = ROOT / DaemonConfig().rehearse_match


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def pin(cpu: int | None) -> None:
    """Run this process on one CPU only (None: leave it to the scheduler)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def cpu_list(value: str) -> tuple[int | None, int | None]:
    """ "ENGINE,FEEDER" CPU numbers for --pin (empty: no pinning)."""
    if not value:
        return None, None
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"--pin: expected ENGINE,FEEDER cpu numbers, got {value!r}"
        )
    return int(parts[0]), int(parts[1])


# ---------------------------------------------------------------------------------------- day


def copied_day(day: DemoDay, copies: int) -> DemoDay:
    """Each match `copies` times under new market and match ids (copy 0 keeps the originals)."""
    if copies <= 1:
        return day
    messages: list[RecordedChange] = []
    ticks: list[ScoreTick] = []
    matches: dict[str, DemoMatch] = {}
    for k in range(copies):

        def market(mid: str, k: int = k) -> str:
            return mid if k == 0 else f"{mid}{k:02d}"

        def match(mid: str, k: int = k) -> str:
            return mid if k == 0 else f"{mid}-c{k:02d}"

        for message in day.recording.messages:
            changes = [dict(c, id=market(str(c.get("id")))) for c in message.changes]
            messages.append(RecordedChange(message.pt + k, changes))
        ticks.extend(
            dataclasses.replace(t, match_id=match(t.match_id), ts=t.ts + k / 1000.0)
            for t in day.ticks
        )
        for m in day.matches.values():
            matches[match(m.match_id)] = dataclasses.replace(
                m, match_id=match(m.match_id), market_id=market(m.market_id)
            )
    messages.sort(key=lambda m: m.pt)
    ticks.sort(key=lambda t: t.ts)
    return DemoDay(Recording(messages, source="copies"), ticks, matches)


@dataclasses.dataclass(frozen=True)
class MatchInfo:
    match_id: str
    market_id: str
    context: MatchContext
    origin_s: float


def copied_matches(root: Path, copies: int) -> dict[str, MatchInfo]:
    """What the engine side needs of the (copied) day without loading its recordings: ids as
    `copied_day` names them, each match's context, and the day's first message time."""
    out = {}
    for line in (root / "matches.jsonl").read_bytes().splitlines():
        entry = json.loads(line)
        meta = json.loads((root / entry["match"]).read_text())
        with gzip.open(root / entry["stream"], "rb") as handle:
            first_pt = json.loads(handle.readline())["pt"]
        context = MatchContext(str(meta["tour"]).lower(), str(meta["surface"]).lower())
        for k in range(max(copies, 1)):
            match_id = entry["match_id"] if k == 0 else f"{entry['match_id']}-c{k:02d}"
            market_id = entry["market_id"] if k == 0 else f"{entry['market_id']}{k:02d}"
            out[match_id] = MatchInfo(match_id, market_id, context, first_pt / 1000.0)
    return out


# ------------------------------------------------------------------------------------- feeder


async def feed(args: argparse.Namespace) -> None:
    pin(args.feeder_cpu)
    day = copied_day(load_demo_day(ROOT / "data" / "sample"), args.copies)
    settings = StreamServerSettings(speed=args.speed, max_gap_ms=0, subscription_limit=1000)
    exchange = LoopbackExchange(
        day.recording, LoopbackConfig(http_port=None, app_key=APP_KEY, stream=settings)
    )
    scores = LoopbackScoreServer(heartbeat_s=1.0)
    await exchange.start()
    url = await scores.start()
    line = {"port": exchange.port, "score_url": url, "session": exchange.issue_session()}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    while exchange.stream.stats.subscriptions == 0:
        await asyncio.sleep(0.001)
    clock = AcceleratedClock(day.origin_s, args.speed)
    clock.start()
    sent: list[tuple[str, int, int]] = []
    publisher = asyncio.create_task(publish_timed(scores, day.ticks, clock, sent))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    publisher.cancel()
    await scores.stop()
    await exchange.stop()
    if args.sent_log:
        Path(args.sent_log).write_text(json.dumps(sent))


async def publish_timed(
    server: LoopbackScoreServer,
    ticks: list[ScoreTick],
    clock: AcceleratedClock,
    sent: list[tuple[str, int, int]],
) -> None:
    """`publish_ticks`, noting (match id, seq, perf_counter_ns) as each point is handed to the
    WebSocket server. CLOCK_MONOTONIC is one clock for every process of the machine, so the engine
    process can take its decision time from it: that difference is the point's latency from the
    feeder's send, including any time it waited behind other work in the engine's loop."""
    for tick in ticks:
        delay = clock.wall_delay(tick.ts)
        if delay > 0:
            await asyncio.sleep(delay)
        if tick.type == "point":
            sent.append((tick.match_id, tick.seq, time.perf_counter_ns()))
        server.publish(tick)


# ------------------------------------------------------------------------------------- engine


class TimedReader:
    """Wraps the connection's StreamReader: stamps when each read returns."""

    def __init__(self, reader: asyncio.StreamReader, client: TimedStreamClient) -> None:
        self._reader = reader
        self._client = client

    async def read(self, n: int) -> bytes:
        data = await self._reader.read(n)
        self._client.read_ns = time.perf_counter_ns()
        return data

    async def readuntil(self, separator: bytes) -> bytes:
        return await self._reader.readuntil(separator)


class TimedStreamClient(StreamClient):
    read_ns = 0

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        await super()._read_loop(TimedReader(reader, self))  # type: ignore[arg-type]


class TimedConsumer(EngineStreamConsumer):
    """The daemon's consumer, recording socket read → decision per market message and tick →
    decision per point."""

    def __init__(self, engine: Engine, clock: AcceleratedClock) -> None:
        super().__init__(engine)
        self.clock = clock
        self.client: TimedStreamClient | None = None
        self.market_ns: list[int] = []
        self.point_ns: list[int] = []
        self.decided: dict[tuple[str, int], int] = {}  # (match id, seq) -> decision perf_counter_ns

    def on_market_change(self, message: ChangeMessage) -> None:
        assert self.client is not None
        start = self.client.read_ns
        if not self.clock.started:
            self.clock.start()
        self.engine.on_market_change(message.pt, message.changes, start)
        self.market_ns.append(self.engine.market_decided_ns - start)

    def on_tick(self, tick: ScoreTick) -> None:
        start = time.perf_counter_ns()
        self.engine.on_score_tick(tick, start)
        if tick.type == "point" and self.engine.decided_ns > start:
            self.point_ns.append(self.engine.decided_ns - start)
            self.decided[(tick.match_id, tick.seq)] = self.engine.decided_ns


def export_models(kind: str, out: Path) -> tuple[str, str]:
    from training.export import export_untrained_pair

    full, lite = export_untrained_pair(out, kind, prefix="bench_", tolerance=1e-3)
    return full.name, lite.name


def _pace_until(deadline: float, spin: bool) -> None:
    """Wait until perf_counter() reaches `deadline`: asleep, or busy-waiting on the CPU."""
    if spin:
        while time.perf_counter() < deadline:
            pass
        return
    gap = deadline - time.perf_counter()
    if gap > 0:
        time.sleep(gap)


def _rehearse_until(rehearsal: Rehearsal, due: float, every_s: float, spin: bool) -> None:
    """Rehearse every `every_s` until 1 ms before `due`."""
    while True:
        next_play = time.perf_counter() + every_s
        if next_play > due - 0.001:
            return
        _pace_until(next_play, spin)
        rehearsal.play()


def replay_in_process(
    kind: str,
    models: Path,
    match_id: str,
    pace: str = "none",
    speed: float = 100.0,
    rehearse_ms: float = 0.0,
    foresight: bool = True,
) -> dict[str, Any]:
    """Reference without sockets or a second process: one sample match replayed through the
    engine on a `SimulatedClock` (same models, gate, strategy and sink as the socket runs).
    pace "none": events back to back; "sleep" / "spin": each event is handed over at its
    recorded time ÷ speed, the gap spent asleep (as an event loop waits in epoll) or
    busy-waiting. With pace and `rehearse_ms`, a gap is spent rehearsing every `rehearse_ms`
    (asleep or spinning in between), as the daemon's loop timer does; a rehearsal never starts
    within 1 ms of the next event, so this shows the warming alone, without the waits behind a
    rehearsal that the socket runs' `point_from_feeder_send` includes. With `foresight`, the work
    the engine defers (engine/core/foresight.py) runs before the next event is handed over, as
    the daemon's loop runs it once an event's callbacks are done."""
    subprocess.run(
        [sys.executable, __file__, "--export", kind, "--models", str(models)], check=True
    )
    full, lite = f"bench_{kind}_full.onnx", f"bench_{kind}_lite.onnx"
    folder = ROOT / "data" / "sample" / match_id
    meta = json.loads((folder / "match.json").read_text())
    events: list[tuple[float, int, Any]] = []
    with gzip.open(folder / f"{meta['market_id']}.gz", "rb") as handle:
        for line in handle:
            message = json.loads(line)
            events.append((message["pt"] / 1000.0, 0, message))
    events.extend((tick.ts, 1, tick) for tick in read_ticks(folder / "ticks.jsonl"))
    events.sort(key=lambda e: (e[0], e[1]))
    clock = SimulatedClock(events[0][0])
    sink = DiscardingSink()
    deferred: list[Callable[[], None]] = []
    engine = Engine(
        EngineParts(
            core=CoreConfig(models_dir=str(models), emu_full=full, emu_lite=lite),
            gate=GateConfig(emu_error_max=1.0, distress_threshold=1.0, min_edge=0.001),
        ),
        clock,
        emulators=EmulatorSet.load(models, full, lite),
        strategy=DivergenceStrategy(),
        orders=sink,
        defer=deferred.append if foresight else None,
    )
    engine.warm_up()
    rehearsal = (
        new_rehearsal(engine, load_rehearsal_script(REHEARSAL_MATCH), DivergenceStrategy)
        if rehearse_ms > 0 and pace != "none"
        else None
    )
    market_ns: list[int] = []
    point_ns: list[int] = []
    origin, wall_origin = events[0][0], time.perf_counter()
    for ts, source, payload in events:
        while deferred:
            deferred.pop(0)()
        if pace != "none":
            due = wall_origin + (ts - origin) / speed
            if rehearsal is not None:
                _rehearse_until(rehearsal, due, rehearse_ms / 1000.0, pace == "spin")
            _pace_until(due, pace == "spin")
        clock.advance_to(ts)
        start = time.perf_counter_ns()
        if source == 0:
            engine.on_market_change(payload["pt"], payload.get("mc", []), start)
            market_ns.append(engine.market_decided_ns - start)
        else:
            engine.on_score_tick(payload, start)
            if payload.type == "point" and engine.decided_ns > start:
                point_ns.append(engine.decided_ns - start)
    return {
        "emulator": kind,
        "replay": match_id,
        "pace": pace if pace == "none" else f"{pace} at x{speed:g}",
        "market_event": percentiles(market_ns),
        "point": percentiles(point_ns),
        "intents": sink.intents,
        "rehearsed_points": rehearsal.points if rehearsal is not None else 0,
        "physics_lookahead": engine.summary()["physics_lookahead"],
        "emulator_foresight": engine.summary()["emulator_foresight"],
        "stage_mean_us": stage_means_us(engine.metrics),
    }


def _stage_cost(metrics: EngineMetrics, stage: Stage, wall_s: float) -> dict[str, float]:
    """How often a stage ran and the share of one core it took over the run."""
    timer = metrics.stage_timer(stage)
    return {"runs": sum(timer.counts), "core_share": round(timer.sum_ns / 1e9 / wall_s, 3)}


def percentiles(values: list[int]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    array = np.asarray(values, dtype=np.float64) / 1000.0
    return {
        "n": len(values),
        "p50_us": round(float(np.percentile(array, 50)), 1),
        "p99_us": round(float(np.percentile(array, 99)), 1),
        "mean_us": round(float(array.mean()), 1),
    }


async def run_engine(args: argparse.Namespace, kind: str, models: Path) -> dict[str, Any]:
    # export in a child process: torch must not inflate this process's memory
    subprocess.run(
        [sys.executable, __file__, "--export", kind, "--models", str(models)], check=True
    )
    full, lite = f"bench_{kind}_full.onnx", f"bench_{kind}_lite.onnx"
    rss_before = rss_mib()
    matches = copied_matches(ROOT / "data" / "sample", args.copies)
    overrides = {m.market_id: m.match_id for m in matches.values()}
    origin = min(m.origin_s for m in matches.values())
    parts = EngineParts(
        core=CoreConfig(models_dir=str(models), emu_full=full, emu_lite=lite),
        # trust the untrained emulators so the gate opens and the strategy runs on its points
        gate=GateConfig(emu_error_max=1.0, distress_threshold=1.0, min_edge=0.001),
        registry=RegistryConfig(overrides=overrides),
    )
    clock = AcceleratedClock(origin, args.speed)
    emulators = EmulatorSet.load(models, full, lite)
    contexts = {m.match_id: m.context for m in matches.values()}
    metrics = EngineMetrics()
    journal_dir = tempfile.TemporaryDirectory(prefix="bench-journal-")
    execution: Execution | None = None
    sink: OrderSink = DiscardingSink()
    listeners: tuple[Callable[[MarketUpdate], None], ...] = ()
    execution_config = load_execution_config({})  # engine.toml defaults
    if args.sink == "daemon":  # the daemon's own order path: order manager, journal, simulator

        def now_ms() -> int:
            return int(clock.time() * 1000)

        sim = SimExchange(SimExchangeConfig(), clock=now_ms)
        execution = await start_execution(
            execution_config,
            simulated_port(sim),
            metrics,
            now_ms,
            Path(journal_dir.name) / "journal.db",
        )
        sink = execution.sink
        listeners = (sim_book_listener(sim, execution.sink),)
    engine = Engine(
        parts,
        clock,
        metrics,
        emulators=emulators,
        strategy=DivergenceStrategy(execution_config.staking, execution_config.risk),
        orders=sink,
        context=contexts.get,
        cache=MarketCache(record_level_changes=execution is not None),
        book_listeners=listeners,
        defer=asyncio.get_running_loop().call_soon if args.foresight == "on" else None,
        foresight_turn_ns=round(args.foresight_turn_us * 1000),
    )
    engine.warm_up()
    rehearsal = (
        RehearsalTimer(
            new_rehearsal(
                engine,
                load_rehearsal_script(REHEARSAL_MATCH),
                lambda: DivergenceStrategy(execution_config.staking, execution_config.risk),
            ),
            args.rehearse_ms / 1000.0,
            engine.has_match_in_play,  # as the daemon: only while a point can arrive
        )
        if args.rehearse_ms > 0
        else None
    )
    sent_log = Path(journal_dir.name) / "sent.json"
    feeder = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--feed",
            "--sent-log",
            str(sent_log),
            "--speed",
            str(args.speed),
            "--copies",
            str(args.copies),
            *(["--feeder-cpu", str(args.pin[1])] if args.pin[1] is not None else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert feeder.stdout is not None
        info = json.loads(feeder.stdout.readline())
        consumer = TimedConsumer(engine, clock)
        config = StreamClientConfig(
            host="127.0.0.1", port=info["port"], tls=False, subscribe_orders=False
        )
        client = TimedStreamClient(config, StaticCredentials(APP_KEY, info["session"]), consumer)
        consumer.client = client
        score = ScoreFeedClient(info["score_url"], consumer.on_tick)
        frozen = freeze_startup_heap() if args.gc == "freeze" else None
        with GcProbe() as probe:
            tasks = [asyncio.create_task(client.run()), asyncio.create_task(score.run())]
            if args.busy_poll:
                tasks.append(asyncio.create_task(busy_poll()))
            if rehearsal is not None:
                rehearsal.start()
            await asyncio.sleep(args.duration)
            if rehearsal is not None:
                rehearsal.stop()
            client.stop()
            score.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if frozen is not None:
            gc.unfreeze()
    finally:
        if feeder.stdin is not None:
            feeder.stdin.close()
        try:
            feeder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            feeder.kill()
    orders: dict[str, int] = {}
    if execution is not None:
        await execution.shutdown(cancel=True)
        orders = execution.order_counts()
    from_send = [
        consumer.decided[(match_id, seq)] - sent_ns
        for match_id, seq, sent_ns in json.loads(sent_log.read_text())
        if (match_id, seq) in consumer.decided
    ]
    journal_dir.cleanup()
    summary = engine.summary()
    return {
        "emulator": kind,
        "matches": len(matches),
        "speed": args.speed,
        "wall_s": args.duration,
        "market_event": percentiles(consumer.market_ns),
        "point": percentiles(consumer.point_ns),
        "point_from_feeder_send": percentiles(from_send),
        "points_priced": summary["points_priced"],
        "gate_open_decisions": summary["gate_decisions"].get("open", 0),
        "sink": args.sink,
        "intents": engine.intents,
        "orders": orders,
        "physics_lookahead": summary["physics_lookahead"],
        "emulator_foresight": summary["emulator_foresight"],
        "foresight_cost": _stage_cost(engine.metrics, Stage.FORESIGHT, args.duration),
        "rehearsal": rehearsal_summary(rehearsal),
        "stage_mean_us": stage_means_us(engine.metrics),
        "gc": {
            "mode": args.gc,
            **({} if frozen is None else dataclasses.asdict(frozen)),
            **probe.report(),
        },
        "rss_mib_start": round(rss_before, 1),
        "rss_mib_end": round(rss_mib(), 1),
    }


class GcProbe:
    """Every collection while the engine runs (CPython's own and the schedule's): count and
    longest pause by generation, from `gc.callbacks`."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[int]] = {0: [], 1: [], 2: []}
        self._started = 0

    def __enter__(self) -> GcProbe:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter_ns()
        else:
            self.pauses[info["generation"]].append(time.perf_counter_ns() - self._started)

    def report(self) -> dict[str, Any]:
        return {
            f"gen{g}": {"n": len(v), "max_us": round(max(v) / 1000.0, 1) if v else 0.0}
            for g, v in self.pauses.items()
        }


async def busy_poll() -> None:
    """Keep the event loop spinning: every iteration polls the sockets with a zero timeout, so
    the engine's CPU never idles (and never goes cold) between events."""
    while True:
        await asyncio.sleep(0)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export", default="", help=argparse.SUPPRESS)
    parser.add_argument("--models", default="", help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--copies", type=int, default=1, help="copies of each sample match")
    parser.add_argument("--duration", type=float, default=60.0, help="wall seconds per run")
    parser.add_argument("--kinds", default="gru,transformer")
    parser.add_argument(
        "--pin",
        type=cpu_list,
        default=(None, None),
        metavar="ENGINE,FEEDER",
        help="pin the engine and the feeder process to these CPUs (e.g. 1,0)",
    )
    parser.add_argument("--feeder-cpu", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--busy-poll", action="store_true", help="the engine's event loop spins instead of sleeping"
    )
    parser.add_argument(
        "--gc",
        choices=("freeze", "plain"),
        default="freeze",
        help="freeze the start-up heap as the daemon does (default), or leave the collector as is",
    )
    parser.add_argument(
        "--sink",
        choices=("counting", "daemon"),
        default="counting",
        help="socket runs: intents are counted, or go down the daemon's order path (order "
        "manager with its position view, SQLite journal, simulated exchange)",
    )
    parser.add_argument(
        "--pace",
        choices=("none", "sleep", "spin"),
        default="none",
        help="--replay: hand events over back to back, or at their time / --speed, waiting "
        "asleep or busy",
    )
    parser.add_argument(
        "--replay", default="", metavar="MATCH_ID", help="reference: in-process replay, no sockets"
    )
    parser.add_argument(
        "--rehearse-ms",
        type=float,
        default=DaemonConfig().rehearse_every_ms,
        help="play a recorded point through a shadow engine this often, as the daemon does "
        "(engine.toml daemon.rehearse_every_ms; 0 = off)",
    )
    parser.add_argument(
        "--foresight",
        choices=("on", "off"),
        default="on" if DaemonConfig().foresight else "off",
        help="step Emu-full for both outcomes of each next point between events, as the daemon "
        "does (engine.toml daemon.foresight)",
    )
    parser.add_argument(
        "--foresight-turn-us",
        type=float,
        default=DaemonConfig().foresight_turn_us,
        help="socket runs: the most one loop turn spends foreseeing (engine.toml "
        "daemon.foresight_turn_us; 0 = one match a turn)",
    )
    parser.add_argument("--sent-log", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("WARNING")  # structured logs to stderr: the feeder's stdout is its handshake
    if args.feed:
        _run(feed(args))
        return
    if args.export:
        export_models(args.export, Path(args.models))
        return
    pin(args.pin[0])
    results = []
    for kind in args.kinds.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            if args.replay:
                results.append(
                    replay_in_process(
                        kind,
                        Path(tmp),
                        args.replay,
                        args.pace,
                        args.speed,
                        args.rehearse_ms,
                        args.foresight == "on",
                    )
                )
            else:
                results.append(_run(run_engine(args, kind, Path(tmp))))
        print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"results": results}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
