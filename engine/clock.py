"""Time for the engine: one protocol so live, paper and replay run the same code.

Two readings with different jobs: `time()` is wall-clock Unix seconds, used to stamp events and to
judge staleness against feed timestamps; `monotonic_ns()` never goes backwards and is for measuring
durations between engine events (timeouts, rates). Timers are scheduled through the clock too, so a
replay that advances a `SimulatedClock` fires exactly the timers a live run would have fired, in
the same order, with no sleeping.

Compute cost (stage latency) is not event time: `engine.metrics.StageTimer` always reads the CPU's
`perf_counter_ns`, also in replay, because it measures how long the code took, not when things
happened.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from typing import Any, Protocol


class TimerHandle(Protocol):
    """What scheduling returns: enough to cancel a timer (asyncio.TimerHandle fits)."""

    def cancel(self) -> None: ...

    def cancelled(self) -> bool: ...


class Clock(Protocol):
    """The engine's only source of time."""

    def time(self) -> float:
        """Wall-clock Unix seconds (UTC)."""
        ...

    def monotonic_ns(self) -> int:
        """Nanoseconds from an arbitrary origin; never decreases."""
        ...

    def call_later(self, delay_s: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run `callback(*args)` once, `delay_s` seconds from now (negative means now)."""
        ...


class LiveClock:
    """Real time; timers run on the asyncio event loop (uvloop in the daemon)."""

    __slots__ = ("_loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    def time(self) -> float:
        return time.time()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def call_later(
        self, delay_s: float, callback: Callable[..., Any], *args: Any
    ) -> asyncio.TimerHandle:
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        return loop.call_later(max(0.0, delay_s), callback, *args)


class SimulatedTimer:
    """A timer of the simulated clock; ordered by due time, then by scheduling order."""

    __slots__ = ("_cancelled", "args", "callback", "seq", "when")

    def __init__(self, when: float, seq: int, callback: Callable[..., Any], args: tuple[Any, ...]):
        self.when = when
        self.seq = seq
        self.callback = callback
        self.args = args
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled

    def __lt__(self, other: SimulatedTimer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class SimulatedClock:
    """Time that moves only when replay says so.

    `advance_to(t)` fires every timer due at or before `t` in (due time, scheduling order), with
    the clock reading each timer's due time while its callback runs, then leaves the clock at `t`.
    Time never goes backwards: an earlier `t` (a late message in a merged replay) leaves the clock
    where it is and is counted in `late_events`. Deterministic: no real time is read.
    """

    __slots__ = ("_heap", "_now", "_seq", "late_events")

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._heap: list[SimulatedTimer] = []
        self._seq = 0
        self.late_events = 0

    def time(self) -> float:
        return self._now

    def monotonic_ns(self) -> int:
        return round(self._now * 1e9)

    def call_later(
        self, delay_s: float, callback: Callable[..., Any], *args: Any
    ) -> SimulatedTimer:
        return self.call_at(self._now + max(0.0, delay_s), callback, *args)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> SimulatedTimer:
        """Schedule at wall time `when` (a past time fires on the next advance)."""
        self._seq += 1
        timer = SimulatedTimer(max(when, self._now), self._seq, callback, args)
        heapq.heappush(self._heap, timer)
        return timer

    def next_timer_at(self) -> float | None:
        """Due time of the earliest live timer (replay interleaves it with its sources)."""
        heap = self._heap
        while heap and heap[0].cancelled():
            heapq.heappop(heap)
        return heap[0].when if heap else None

    def pending(self) -> int:
        """Number of timers not yet fired or cancelled."""
        return sum(1 for timer in self._heap if not timer.cancelled())

    def advance_to(self, when: float) -> int:
        """Move to `when`, firing due timers; returns how many fired."""
        if when < self._now:
            self.late_events += 1
            return 0
        fired = 0
        heap = self._heap
        while heap and heap[0].when <= when:
            timer = heapq.heappop(heap)
            if timer.cancelled():
                continue
            self._now = timer.when
            timer.callback(*timer.args)
            fired += 1
        self._now = float(when)
        return fired

    def advance(self, seconds: float) -> int:
        """Move forward by `seconds` (negative is refused as a late event)."""
        return self.advance_to(self._now + seconds)
