"""A live clock that runs N times faster than the wall, for demo mode.

The demo replays a recorded day through real sockets at ×N speed. The engine must judge time the
way the recording does — a score feed silent for 90 recorded seconds is stale, whatever the
speed — so its clock reads *event* time: the recording's origin plus N × the wall time elapsed since
the exchange started publishing. Timers fire after delay / N wall seconds. Before `start` the clock
stands still at the origin.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


class AcceleratedClock:
    """`Clock` for accelerated replays over real sockets (see the module docstring)."""

    __slots__ = ("_anchor", "_loop", "origin", "speed")

    def __init__(
        self, origin: float, speed: float, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        if not speed > 0.0:
            raise ValueError(f"speed: must be positive, got {speed!r}")
        self.origin = origin
        self.speed = speed
        self._loop = loop
        self._anchor: float | None = None  # time.monotonic() at event time `origin`

    def start(self, at_monotonic: float | None = None) -> None:
        """Event time `origin` is now (or at the given `time.monotonic()` reading)."""
        self._anchor = time.monotonic() if at_monotonic is None else at_monotonic

    @property
    def started(self) -> bool:
        return self._anchor is not None

    def wall_delay(self, event_time: float) -> float:
        """Wall seconds from now until the clock reads `event_time` (negative: already past)."""
        return (event_time - self.time()) / self.speed

    def time(self) -> float:
        anchor = self._anchor
        if anchor is None:
            return self.origin
        return self.origin + (time.monotonic() - anchor) * self.speed

    def monotonic_ns(self) -> int:
        return round(self.time() * 1e9)

    def call_later(
        self, delay_s: float, callback: Callable[..., Any], *args: Any
    ) -> asyncio.TimerHandle:
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        return loop.call_later(max(0.0, delay_s) / self.speed, callback, *args)
