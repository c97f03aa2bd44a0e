"""The engine as every daemon mode wires it (demo, paper and live differ only in the clock, the
exchange behind the order manager and where match contexts come from)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.app.execution import Execution, load_strategy, sim_book_listener
from adapters.app.predictions import PredictionLog
from adapters.app.settings import Settings
from adapters.simexchange import SimExchange
from engine.clock import Clock
from engine.core.emulators import EmulatorSet
from engine.core.engine import ContextSource, Engine
from engine.market.cache import MarketCache
from engine.metrics import EngineMetrics


def start_prediction_log(settings: Settings) -> PredictionLog | None:
    """`daemon.predictions_path`'s log, started; None when the path is empty."""
    path = settings.daemon.predictions_path
    if not path:
        return None
    log = PredictionLog(path)
    log.start()
    return log


def build_engine(
    settings: Settings,
    clock: Clock,
    metrics: EngineMetrics,
    execution: Execution,
    *,
    sim: SimExchange | None,
    predictions: PredictionLog | None,
    context: ContextSource | None = None,
) -> Engine:
    """The configured emulators and strategy, the execution's order sink and, in paper and demo,
    the simulated exchange fed every book change (it needs the cache's level changes). With
    `daemon.foresight`, the engine foresees next points on the running loop's idle turns."""
    core = settings.engine.core
    defer = asyncio.get_running_loop().call_soon if settings.daemon.foresight else None
    return Engine(
        settings.engine,
        clock,
        metrics,
        emulators=EmulatorSet.load(
            Path(core.models_dir), core.emu_full, core.emu_lite, core.kv_capacity
        ),
        strategy=load_strategy(
            settings.daemon.strategy, settings.execution.staking, settings.execution.risk
        ),
        orders=execution.sink,
        context=context,
        cache=MarketCache(record_level_changes=sim is not None),
        prediction_listeners=(predictions,) if predictions is not None else (),
        book_listeners=(sim_book_listener(sim, execution.sink),) if sim is not None else (),
        defer=defer,
        foresight_turn_ns=round(settings.daemon.foresight_turn_us * 1000),
    )
