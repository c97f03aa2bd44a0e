"""One replay task: a market (or a match: market + score ticks) through the daemon's engine.

The task is wired exactly as `courtside run` wires demo mode (adapters.app): the same `Engine`,
strategy (`daemon.strategy`), staking, risk limits, order manager with its SQLite journal and the
simulated exchange fed by every book update. What differs is only the clock and the sources: a
`SimulatedClock` moved to each merged event's time (the engine's gate timer fires on it), and
files instead of sockets. After every event the scheduled order work (risk check, journal write,
exchange call) is drained before the next event, so the interleaving of decisions, orders and
fills is a function of the inputs alone; together with the seeded simulator this makes a task's
outputs byte-identical from run to run.

Outputs, one folder per task:

- ``journal.sqlite``: the order manager's journal (the source of truth for orders);
- ``orders.jsonl`` / ``order_events.jsonl``: that journal dumped in a stable order;
- ``fills.jsonl``: every order with matched size (average price, size, time);
- ``predictions.jsonl``: one `PredictionRecord` per point;
- ``gate.jsonl``: gate decisions — every change of reason per match (every decision in shadow);
- ``would_be_orders.jsonl`` (shadow mode): intents with the stake they would have had;
- ``metrics.prom``: the engine's metrics in the live Prometheus names;
- ``result.json``: counts, settlements and each market's outcome (deterministic);
- ``timing.json``: wall time and events/s (not deterministic, kept apart).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from adapters.app.consumer import EngineStreamConsumer
from adapters.app.execution import (
    Execution,
    load_strategy,
    sim_book_listener,
    simulated_port,
    start_execution,
)
from adapters.app.settings import Settings, load_settings
from adapters.betfair.messages import ChangeMessage
from adapters.simexchange import SimExchange
from engine.clock import SimulatedClock
from engine.core.emulators import EmulatorSet
from engine.core.engine import MARKET_FEED, SCORE_FEED, Engine
from engine.core.match import MatchContext
from engine.core.orders import OrderSink
from engine.execution.config import StakingConfig
from engine.execution.journal import Journal
from engine.execution.staking import size_order
from engine.execution.types import MarketState
from engine.gate.decide import GateDecision
from engine.logs import configure_logging, get_logger
from engine.market.cache import MarketCache
from engine.market.update import MarketUpdate
from engine.metrics import EngineMetrics
from engine.strategy import OrderIntent
from replay.sources import EventKind, ReplayEvent, SourceSet

_log = get_logger("replay.runner")

_JSON_OPTS = orjson.OPT_SORT_KEYS
ProgressFn = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ReplayTask:
    """What one worker replays. task_id names its output folder (unique within a run);
    match_file is a corpus match.json (tour/surface context, players, outcome) when known."""

    task_id: str
    market_files: tuple[str, ...]
    tick_files: tuple[str, ...] = ()
    match_file: str | None = None


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """Run-wide choices. config_path: engine.toml (None = the repository default). shadow: zero
    stakes — decisions and would-be orders are recorded, nothing is placed. log_level: configure
    logging (stderr) at this level in the task's process; None leaves it as it is."""

    out_dir: str
    config_path: str | None = None
    shadow: bool = False
    progress_every: int = 2000
    log_level: str | None = None  # set it in worker processes (they start unconfigured)


@dataclass(slots=True)
class TaskResult:
    """What a task hands back to the executor (small and picklable; the bulk is on disk)."""

    task_id: str
    events: int = 0
    wall_s: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _context_reader(match_file: str | None) -> Callable[[str], MatchContext | None]:
    """The engine's match context (tour, surface) from a corpus match.json."""
    if match_file is None:
        return lambda _match_id: None
    meta = orjson.loads(Path(match_file).read_bytes())
    context = MatchContext(str(meta["tour"]).lower(), str(meta["surface"]).lower())
    match_id = str(meta["match_id"])
    return lambda wanted: context if wanted == match_id else None


class ShadowOrders:
    """`OrderSink` of shadow mode: sizes each intent as the live sink would, places nothing."""

    def __init__(self, staking: StakingConfig, clock: SimulatedClock) -> None:
        self.staking = staking
        self.clock = clock
        self.would_be: list[dict[str, Any]] = []
        self.kill_reason: str | None = None

    def submit(
        self, intent: OrderIntent, market: MarketState, decision_id: str, commission: float
    ) -> None:
        size = intent.size
        if size is None:
            size = size_order(
                intent.side, intent.price, intent.p_win, commission, self.staking
            ).stake
        self.would_be.append(
            {
                "ts": self.clock.time(),
                "decision_id": decision_id,
                "market_id": intent.market_id,
                "selection_id": intent.selection_id,
                "side": str(intent.side),
                "price": intent.price,
                "would_be_size": round(size, 2),
                "size": 0.0,
                "p_win": intent.p_win,
                "reason": intent.reason,
                "in_play": market.in_play,
            }
        )

    def kill(self, reason: str) -> None:
        self.kill_reason = reason


class _Outputs:
    """The task's append-only JSONL files, written as the replay goes."""

    def __init__(self, folder: Path, every_decision: bool) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.every_decision = every_decision
        self.predictions: IO[bytes] = (folder / "predictions.jsonl").open("wb")
        self.gate: IO[bytes] = (folder / "gate.jsonl").open("wb")
        self._last_reason: dict[str, str] = {}
        self.gate_lines = 0

    def drain(self, engine: Engine) -> None:
        """Move the engine's kept records and decisions to disk (bounded memory)."""
        if engine.records:
            for record in engine.records:
                self.predictions.write(orjson.dumps(record.as_dict(), option=_JSON_OPTS) + b"\n")
            engine.records.clear()
        if engine.decisions:
            for ts, key, decision in engine.decisions:
                self._decision(ts, key, decision)
            engine.decisions.clear()

    def _decision(self, ts: float, key: str, decision: GateDecision) -> None:
        reason = str(decision.reason)
        if not self.every_decision and self._last_reason.get(key) == reason:
            return
        self._last_reason[key] = reason
        row = {
            "ts": ts,
            "match": key,
            "open": decision.open,
            "reason": reason,
            "failing": [str(r) for r in decision.failing],
            "edge": decision.edge,
            "pts_since_mto": decision.pts_since_mto,
        }
        self.gate.write(orjson.dumps(row, option=_JSON_OPTS) + b"\n")
        self.gate_lines += 1

    def write_lines(self, name: str, rows: list[dict[str, Any]]) -> None:
        with (self.folder / name).open("wb") as handle:
            for row in rows:
                handle.write(orjson.dumps(row, option=_JSON_OPTS) + b"\n")

    def close(self) -> None:
        self.predictions.close()
        self.gate.close()


async def _dump_journal(journal: Journal, outputs: _Outputs) -> list[dict[str, Any]]:
    """orders.jsonl (by creation, then ref), order_events.jsonl (by seq) and fills.jsonl."""
    orders = sorted(await journal.orders(), key=lambda o: (o.created_ms, o.ref))
    rows = []
    for order in orders:
        row = asdict(order)
        row["state"] = str(order.state)
        rows.append(row)
    outputs.write_lines("orders.jsonl", rows)
    events = [
        {"seq": e.seq, "ts_ms": e.ts_ms, "ref": e.ref, "kind": e.kind, "payload": e.payload}
        for e in await journal.events()
    ]
    outputs.write_lines("order_events.jsonl", events)
    fills = [
        {
            "ref": r["ref"],
            "market_id": r["market_id"],
            "selection_id": r["selection_id"],
            "side": r["side"],
            "price": r["average_price_matched"],
            "size": r["size_matched"],
            "created_ms": r["created_ms"],
            "updated_ms": r["updated_ms"],
            "decision_id": r["decision_id"],
        }
        for r in rows
        if r["size_matched"] > 0
    ]
    outputs.write_lines("fills.jsonl", fills)
    return rows


def _market_outcomes(engine: Engine, closed_at: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Per followed market: p1/p2 selections, the winner (None when unsettled), commission rate."""
    out: dict[str, dict[str, Any]] = {}
    for market_id in sorted(engine.markets):
        slot = engine.markets[market_id]
        book = engine.cache.get(market_id)
        winners = [r.selection_id for r in book if r.status == "WINNER"] if book else []
        selections = slot.link.selections
        out[market_id] = {
            "match_id": slot.link.match_id,
            "selections": list(selections) if selections is not None else None,
            "winner_selection": winners[0] if len(winners) == 1 else None,
            "closed": bool(book is not None and book.closed),
            "commission_rate": ((book.market_base_rate or 0.0) / 100.0) if book else 0.0,
            "points": slot.points,
            "closed_at": closed_at.get(market_id),
        }
    return out


def _dispatch(engine: Engine, consumer: EngineStreamConsumer, event: ReplayEvent) -> None:
    """Hand one event to the engine the way the daemon's sources do: market messages through
    the stream client's consumer, score ticks straight to `on_score_tick`."""
    if event.kind is EventKind.MARKET:
        message: ChangeMessage = event.payload
        if message.ct == "HEARTBEAT":
            engine.on_stream_heartbeat()
        else:
            consumer.on_market_change(message)
    else:
        engine.on_score_tick(event.payload)


async def _replay(
    task: ReplayTask, options: ReplayOptions, settings: Settings, progress: ProgressFn | None
) -> TaskResult:
    folder = Path(options.out_dir) / "tasks" / task.task_id
    outputs = _Outputs(folder, every_decision=options.shadow)
    events, source_stats = SourceSet(task.market_files, task.tick_files).open()
    first = next(events, None)
    clock = SimulatedClock(first.ts if first is not None else 0.0)
    metrics = EngineMetrics()
    core = settings.engine.core
    emulators = EmulatorSet.load(
        Path(core.models_dir), core.emu_full, core.emu_lite, core.kv_capacity
    )

    def now_ms() -> int:
        return round(clock.time() * 1000.0)

    sim: SimExchange | None = None
    execution: Execution | None = None
    shadow: ShadowOrders | None = None
    journal_path = folder / "journal.sqlite"
    for stale in (journal_path, *(folder.glob("journal.sqlite-*"))):
        stale.unlink(missing_ok=True)
    strategy = load_strategy(
        settings.daemon.strategy, settings.execution.staking, settings.execution.risk
    )
    closed_at: dict[str, float] = {}

    def note_close(update: MarketUpdate) -> None:
        if update.book.closed and update.market_id not in closed_at:
            closed_at[update.market_id] = clock.time()

    listeners: tuple[Callable[[MarketUpdate], None], ...] = (note_close,)
    order_sink: OrderSink
    if options.shadow:
        shadow = ShadowOrders(settings.execution.staking, clock)
        order_sink = shadow
    else:
        sim = SimExchange(settings.simexchange, clock=now_ms)
        execution = await start_execution(
            settings.execution, simulated_port(sim), metrics, now_ms, journal_path
        )
        order_sink = execution.sink
        listeners = (sim_book_listener(sim, execution.sink), note_close)
    engine = Engine(
        settings.engine,
        clock,
        metrics,
        emulators=emulators,
        strategy=strategy,
        orders=order_sink,
        context=_context_reader(task.match_file),
        cache=MarketCache(record_level_changes=True),
        book_listeners=listeners,
    )
    engine.keep_records = True
    engine.warm_up()
    consumer = EngineStreamConsumer(
        engine, execution.sink.on_order_updates if execution is not None else None
    )
    engine.set_feed(MARKET_FEED, True)
    engine.set_feed(SCORE_FEED, bool(task.tick_files))
    engine.start_timer()
    started = time.perf_counter()
    count = 0
    every = max(1, options.progress_every)
    sink = execution.sink if execution is not None else None
    if first is not None:
        clock.advance_to(first.ts)
        _dispatch(engine, consumer, first)
        count = 1
        for event in events:
            clock.advance_to(event.ts)
            _dispatch(engine, consumer, event)
            if sink is not None:
                await sink.drain()
            outputs.drain(engine)
            count += 1
            if progress is not None and count % every == 0:
                progress(every)
    if sink is not None:
        await sink.drain()
    outputs.drain(engine)
    engine.stop_timer()
    wall = time.perf_counter() - started
    if progress is not None and count % every:
        progress(count % every)

    orders: list[dict[str, Any]] = []
    order_counts: dict[str, int] = {}
    settlements: dict[str, dict[str, Any]] = {}
    if execution is not None and sim is not None:
        await execution.shutdown(settings.daemon.on_shutdown == "cancel")
        journal = await Journal.open(journal_path)
        try:
            orders = await _dump_journal(journal, outputs)
        finally:
            await journal.close()
        order_counts = execution.order_counts()
        settlements = {
            market_id: {
                "winner": s.winner,
                "gross": round(s.gross, 2),
                "commission": round(s.commission, 2),
                "net": round(s.net, 2),
                "closed_at": closed_at.get(market_id),
            }
            for market_id, s in sorted(sim.settlements.items())
        }
    else:
        outputs.write_lines("orders.jsonl", [])
        outputs.write_lines("fills.jsonl", [])
    if shadow is not None:
        outputs.write_lines("would_be_orders.jsonl", shadow.would_be)
    outputs.close()
    metrics.write_textfile(folder / "metrics.prom")

    result: dict[str, Any] = {
        "task_id": task.task_id,
        "inputs": {
            "market_files": list(task.market_files),
            "tick_files": list(task.tick_files),
            "match_file": task.match_file,
        },
        "shadow": options.shadow,
        "events": count,
        "late_events": clock.late_events,
        "sources": [asdict(s) for s in source_stats],
        "engine": engine.summary(),
        "markets": _market_outcomes(engine, closed_at),
        "orders": {
            "count": len(orders),
            "by_state": dict(sorted(order_counts.items())),
            "submitted_stake": round(sum(float(o["size"]) for o in orders), 2),
            "matched_stake": round(sum(float(o["size_matched"]) for o in orders), 2),
        },
        "settlements": settlements,
        "would_be_orders": len(shadow.would_be) if shadow is not None else 0,
        "gate_lines": outputs.gate_lines,
    }
    (folder / "result.json").write_bytes(
        orjson.dumps(result, option=_JSON_OPTS | orjson.OPT_INDENT_2) + b"\n"
    )
    rate = round(count / wall, 1) if wall > 0 else None
    timing = {"events": count, "wall_s": round(wall, 3), "events_per_s": rate}
    (folder / "timing.json").write_bytes(orjson.dumps(timing) + b"\n")
    _log.info("replay_task_done", task_id=task.task_id, **timing)
    return TaskResult(task.task_id, count, wall, result)


def run_task(
    task: ReplayTask, options: ReplayOptions, progress: ProgressFn | None = None
) -> TaskResult:
    """Replay one task in its own event loop (the unit every executor runs; picklable inputs)."""
    if options.log_level is not None:
        configure_logging(options.log_level)
    settings = load_settings(options.config_path)
    return asyncio.run(_replay(task, options, settings, progress))
