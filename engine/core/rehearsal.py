"""Rehearsal: a recorded match played through a second engine between real events.

Real points are rare: one per match every 15–40 s. On a shared host, the other tenants evict
the point path's working set within milliseconds. That working set is the GRU's weights, ONNX
Runtime's kernels, and the Python and data of the score machine, features, gate and strategy.
A GRU step costs ~38 µs hot and ~650 µs after 100 ms asleep (benchmarks/RESULTS.md), and every
other stage slows down 3–4× the same way.

Low-latency trading systems keep their hot path hot by exercising it with orders that are never
sent. The daemon does the same. Every few milliseconds it plays the next piece of a recorded match
through a shadow `Engine`. The shadow shares the real engine's configuration, ONNX sessions and
compiled physics, so it runs the same code on the same weights. It has its own match state, its
own clock and a private metrics registry, and its order sink discards every intent. So a real point
finds its path in the caches, and nothing the shadow does reaches the real engine, the exchange
or the operator's metrics. Only the rehearsal's own timer and counter are exported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.clock import Clock, SimulatedClock
from engine.core.engine import Engine
from engine.execution.types import MarketState
from engine.logs import get_logger, muted
from engine.metrics import CounterCell, StageTimer
from engine.score.ticks import MatchStart, Point, ScoreTick
from engine.strategy import OrderIntent

_log = get_logger("core.rehearsal")


@dataclass(frozen=True, slots=True)
class RehearsalStep:
    """One score tick of the recorded match, and the market as it stood just before it (a
    market-change message of ``img: true`` changes), or None when the book need not be sent."""

    tick: ScoreTick
    book_pt: int = 0
    book: tuple[Mapping[str, Any], ...] | None = None


class RehearsalScript:
    """The steps of one recorded match, in order. It must start the match and play points."""

    __slots__ = ("match_id", "points", "steps")

    def __init__(self, steps: Sequence[RehearsalStep]) -> None:
        self.steps = tuple(steps)
        self.points = sum(1 for s in self.steps if isinstance(s.tick, Point))
        if not any(isinstance(s.tick, MatchStart) for s in self.steps) or self.points == 0:
            raise ValueError("rehearsal script: needs a match_start tick and at least one point")
        self.match_id = self.steps[0].tick.match_id


class DiscardingSink:
    """The shadow engine's order sink: intents are counted and dropped, never sent."""

    def __init__(self) -> None:
        self.intents = 0

    def submit(
        self, intent: OrderIntent, market: MarketState, decision_id: str, commission: float
    ) -> None:
        self.intents += 1

    def kill(self, reason: str) -> None:
        pass


# builds a shadow engine on the given clock and order sink (the wiring knows the configuration)
ShadowFactory = Callable[[Clock, DiscardingSink], Engine]


class Rehearsal:
    """Plays `script` through shadow engines made by `build`, a bounded piece per `play()`.

    A piece is one of: starting a fresh shadow (at each pass over the script, so no state
    accumulates), the steps up to the match start, or the steps up to the next point. So no
    single play blocks the loop for a whole match start plus a point. The shadow's log lines are
    muted. A failure is logged once and counted, and rehearsing stops for good: it is an
    optimisation, and a broken one must not run in a loop."""

    def __init__(
        self,
        build: ShadowFactory,
        script: RehearsalScript,
        timer: StageTimer,
        played: CounterCell,
        failed: CounterCell,
    ) -> None:
        self._build = build
        self.script = script
        self._timer = timer
        self._played = played
        self._failed = failed
        self._engine: Engine | None = None
        self._clock = SimulatedClock()
        self._sink = DiscardingSink()
        self._cursor = 0
        self.passes = 0  # shadow engines started
        self.points = 0  # points played
        self.broken = False

    @property
    def intents_discarded(self) -> int:
        return self._sink.intents

    def play(self) -> bool:
        """Play the next piece of the script; False once rehearsing has stopped."""
        if self.broken:
            return False
        timer = self._timer
        timer.start()
        try:
            with muted():
                self._play_piece()
        except Exception as exc:  # any bug in the shadow must not reach the loop
            timer.stop()
            self.broken = True
            self._engine = None
            self._failed.inc()
            _log.error("rehearsal_failed", error=repr(exc), points=self.points, passes=self.passes)
            return False
        timer.stop()
        self._played.inc()
        return True

    def _play_piece(self) -> None:
        steps = self.script.steps
        engine = self._engine
        if engine is None or self._cursor >= len(steps):
            self._start_pass()
            return
        clock = self._clock
        while self._cursor < len(steps):
            step = steps[self._cursor]
            self._cursor += 1
            tick = step.tick
            if step.book is not None:
                clock.advance_to(step.book_pt / 1000.0)
                engine.on_market_change(step.book_pt, step.book)
            clock.advance_to(tick.ts)
            engine.on_score_tick(tick)
            if isinstance(tick, Point):
                self.points += 1
                return
            if isinstance(tick, MatchStart):
                return

    def _start_pass(self) -> None:
        first = self.script.steps[0]
        self._clock = SimulatedClock(first.tick.ts if first.book is None else first.book_pt / 1e3)
        self._engine = self._build(self._clock, self._sink)
        self._cursor = 0
        self.passes += 1
