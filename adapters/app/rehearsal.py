"""The daemon's rehearsal (engine/core/rehearsal.py).

This module builds the script from a recorded match folder, wires the shadow engines like the
real one, and runs the loop timer that plays a point every `daemon.rehearse_every_ms`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from adapters.app.execution import load_strategy
from adapters.app.settings import Settings
from adapters.betfair.loopback.images import ImageComposer
from adapters.betfair.loopback.recording import Recording
from adapters.scores.tickfile import read_ticks
from engine.clock import Clock
from engine.core.emulators import EmulatorSet, EmulatorSlot
from engine.core.engine import Engine
from engine.core.rehearsal import (
    DiscardingSink,
    Rehearsal,
    RehearsalScript,
    RehearsalStep,
    ShadowFactory,
)
from engine.logs import get_logger
from engine.metrics import EngineMetrics, Stage
from engine.score.ticks import MatchStart, Point
from engine.strategy import Strategy

_log = get_logger("app.rehearsal")
_LEVELS = 10  # best prices kept per side in a rehearsal image


def _trimmed(image: dict[str, Any]) -> dict[str, Any]:
    """A market image cut to what a point reads: each runner's best `_LEVELS` back and lay prices,
    its last traded price and traded volume. The full ladders and the traded ladder would double
    the rehearsal's cost and keep nothing warm that real market deltas do not."""
    runners = []
    for runner in image.get("rc", ()):
        kept = {k: v for k, v in runner.items() if k in ("id", "hc", "ltp", "tv")}
        if "atb" in runner:
            kept["atb"] = sorted(runner["atb"], key=lambda level: -level[0])[:_LEVELS]
        if "atl" in runner:
            kept["atl"] = sorted(runner["atl"], key=lambda level: level[0])[:_LEVELS]
        runners.append(kept)
    return {**image, "rc": runners}


def load_rehearsal_script(folder: str | Path) -> RehearsalScript:
    """One recorded match: `match.json` (its market id), the market's stream file and
    `ticks.jsonl`. Every point and the match start carry the market's image just before them
    (trimmed), so each rehearsed point meets a current book however many messages it skips."""
    root = Path(folder)
    meta_path = root / "match.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"daemon.rehearse_match: {meta_path} not found")
    market_id = str(orjson.loads(meta_path.read_bytes())["market_id"])
    stream_path = root / f"{market_id}.gz"
    if not stream_path.is_file():
        raise FileNotFoundError(f"daemon.rehearse_match: {stream_path} not found")
    messages = Recording.load(stream_path).messages
    composer = ImageComposer()
    position = 0
    steps = []
    for tick in read_ticks(root / "ticks.jsonl"):
        while position < len(messages) and messages[position].pt / 1000.0 <= tick.ts:
            composer.apply(messages[position].changes)
            position += 1
        images = composer.images({market_id}) if isinstance(tick, (Point, MatchStart)) else []
        if images:
            book = tuple(_trimmed(image) for image in images)
            steps.append(RehearsalStep(tick, messages[position - 1].pt, book))
        else:
            steps.append(RehearsalStep(tick))
    try:
        return RehearsalScript(steps)
    except ValueError as exc:
        raise ValueError(f"daemon.rehearse_match: {root}: {exc}") from None


class _OneSlotEmulators(EmulatorSet):
    """The real engine's emulators (the same runners, so the same ONNX sessions) with one match
    slot kept across shadows. A shadow follows a single market, and a fresh slot per pass would
    allocate a Transformer's KV cache (megabytes) every few hundred milliseconds. `reset` at
    each match start clears it."""

    def __init__(self, emulators: EmulatorSet) -> None:
        super().__init__(emulators.full, emulators.lite, emulators.capacity)
        self._slot: EmulatorSlot | None = None

    def new_slot(self) -> EmulatorSlot:
        if self._slot is None:
            self._slot = super().new_slot()
        return self._slot


def shadow_factory(engine: Engine, make_strategy: Callable[[], Strategy | None]) -> ShadowFactory:
    """Shadow engines with the real engine's configuration and emulators (its ONNX sessions), and
    a strategy from `make_strategy` (a fresh instance: a strategy may keep per-match state). Each
    has its own match state and a private metrics registry. The pre-match serve-sum source is the
    table: the learned prior is loaded per engine, and only a match's start reads it."""
    parts = dataclasses.replace(
        engine.parts,
        physics=dataclasses.replace(engine.parts.physics, serve_sum_source="table"),
    )
    private = EngineMetrics()  # never served: the operator sees only the rehearsal's own metrics
    emulators = _OneSlotEmulators(engine.emulators)

    def build(clock: Clock, sink: DiscardingSink) -> Engine:
        return Engine(
            parts, clock, private, emulators=emulators, strategy=make_strategy(), orders=sink
        )

    return build


def new_rehearsal(
    engine: Engine, script: RehearsalScript, make_strategy: Callable[[], Strategy | None]
) -> Rehearsal:
    """A rehearsal of `script` beside `engine`, timed and counted in the engine's metrics."""
    metrics = engine.metrics
    return Rehearsal(
        shadow_factory(engine, make_strategy),
        script,
        metrics.stage_timer(Stage.REHEARSAL),
        metrics.rehearsals.labels("played"),
        metrics.rehearsals.labels("failed"),
    )


class RehearsalTimer:
    """Plays one piece of the rehearsal, then waits `every_s` on the loop, until stopped or broken.

    While `wanted()` is false (no match in play: no point can arrive, e.g. overnight), it plays
    nothing and asks again every `idle_s`, so an idle daemon does not spend a core warming."""

    def __init__(
        self,
        rehearsal: Rehearsal,
        every_s: float,
        wanted: Callable[[], bool] = lambda: True,
        idle_s: float = 0.1,
    ) -> None:
        self.rehearsal = rehearsal
        self.every_s = every_s
        self.wanted = wanted
        self.idle_s = idle_s
        self.idle_waits = 0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._handle = asyncio.get_running_loop().call_later(self.every_s, self._play)

    def _play(self) -> None:
        loop = asyncio.get_running_loop()
        if not self.wanted():
            self.idle_waits += 1
            self._handle = loop.call_later(self.idle_s, self._play)
        elif self.rehearsal.play():
            self._handle = loop.call_later(self.every_s, self._play)
        else:
            self._handle = None

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def running(self) -> bool:
        return self._handle is not None


def configured_script(settings: Settings) -> RehearsalScript | None:
    """`daemon.rehearse_match`'s script, None when rehearsing is off. Read before anything else
    starts, so a bad folder is refused (with the key) before any connection or journal opens."""
    if settings.daemon.rehearse_every_ms <= 0.0:
        return None
    return load_rehearsal_script(settings.daemon.rehearse_match)


def start_rehearsal(
    engine: Engine, settings: Settings, script: RehearsalScript | None
) -> RehearsalTimer | None:
    """The configured rehearsal of `script`, started on the running loop; None when it is off."""
    daemon = settings.daemon
    if script is None or daemon.rehearse_every_ms <= 0.0:
        return None
    execution = settings.execution
    rehearsal = new_rehearsal(
        engine,
        script,
        lambda: load_strategy(daemon.strategy, execution.staking, execution.risk),
    )
    timer = RehearsalTimer(rehearsal, daemon.rehearse_every_ms / 1000.0, engine.has_match_in_play)
    timer.start()
    _log.info(
        "rehearsal_started",
        match_id=script.match_id,
        points=script.points,
        every_ms=daemon.rehearse_every_ms,
    )
    return timer


def stop_rehearsal(timer: RehearsalTimer | None) -> None:
    if timer is not None:
        timer.stop()


def rehearsal_summary(timer: RehearsalTimer | None) -> dict[str, Any]:
    """For the end-of-run report: points rehearsed, shadow passes, intents dropped."""
    if timer is None:
        return {"every_ms": 0.0}
    rehearsal = timer.rehearsal
    return {
        "every_ms": round(timer.every_s * 1000.0, 3),
        "points": rehearsal.points,
        "passes": rehearsal.passes,
        "intents_discarded": rehearsal.intents_discarded,
        "idle_waits": timer.idle_waits,
        "broken": rehearsal.broken,
    }
