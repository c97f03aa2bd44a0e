"""Constant-cost rolling statistics for the gate's per-match state.

Both run on every event of a live match, so neither ever recomputes over the history:
`RollingMeanAbs` is a ring buffer with a running sum (re-summed once per wrap so float drift cannot
build up), `RunningMedian` a log-spaced histogram with a tracked median bin — O(1) amortised per
observation, fixed memory (about 1,000 counters) however long the match, and exact to the bin's
relative width (1% by default), which is far finer than the 25%-of-median collapse rule needs.
"""

from __future__ import annotations

import math


class RollingMeanAbs:
    """Mean of |x| over the last `size` observations."""

    __slots__ = ("_buf", "_count", "_pos", "_size", "_sum")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size: must be at least 1, got {size}")
        self._size = size
        self._buf = [0.0] * size
        self._pos = 0
        self._count = 0
        self._sum = 0.0

    def add(self, value: float) -> None:
        """Add one observation (NaN and infinities are ignored: they carry no evidence)."""
        magnitude = abs(value)
        if not math.isfinite(magnitude):
            return
        pos = self._pos
        self._sum += magnitude - self._buf[pos]
        self._buf[pos] = magnitude
        pos += 1
        if pos == self._size:
            pos = 0
            self._sum = math.fsum(self._buf)
        self._pos = pos
        if self._count < self._size:
            self._count += 1

    @property
    def count(self) -> int:
        """Observations in the window (at most `size`)."""
        return self._count

    @property
    def mean(self) -> float | None:
        """Mean |x| of the window, None when empty."""
        if self._count == 0:
            return None
        return max(0.0, self._sum) / self._count

    def clear(self) -> None:
        self._buf = [0.0] * self._size
        self._pos = self._count = 0
        self._sum = 0.0


class RunningMedian:
    """Median of every non-negative observation so far, on a log-spaced grid.

    Values below `floor` share bin 0; values above `ceiling` share the last bin. The median is the
    geometric centre of the lower-median bin, so it is within `rel_width` of the exact value.
    """

    __slots__ = ("_below", "_counts", "_floor", "_log_floor", "_log_step", "_m", "_total")

    def __init__(self, floor: float = 1.0, ceiling: float = 1e7, rel_width: float = 0.01) -> None:
        if not 0.0 < floor < ceiling or rel_width <= 0.0:
            raise ValueError("RunningMedian: need 0 < floor < ceiling and rel_width > 0")
        self._floor = floor
        self._log_floor = math.log(floor)
        self._log_step = math.log1p(rel_width)
        n_bins = math.ceil((math.log(ceiling) - self._log_floor) / self._log_step) + 2
        self._counts = [0] * n_bins
        self._total = 0
        self._m = 0  # bin holding the lower median
        self._below = 0  # observations in bins < _m

    def _bin(self, value: float) -> int:
        if value < self._floor:
            return 0
        index = int((math.log(value) - self._log_floor) / self._log_step) + 1
        last = len(self._counts) - 1
        return index if index < last else last

    def add(self, value: float) -> None:
        """Add one observation; negative or non-finite values are ignored."""
        if not value >= 0.0 or value == math.inf:  # also refuses NaN
            return
        b = self._bin(value)
        counts = self._counts
        counts[b] += 1
        self._total += 1
        if b < self._m:
            self._below += 1
        rank = (self._total - 1) // 2  # 0-based rank of the lower median
        m, below = self._m, self._below
        while below > rank:
            m -= 1
            below -= counts[m]
        while below + counts[m] <= rank:
            below += counts[m]
            m += 1
        self._m, self._below = m, below

    @property
    def count(self) -> int:
        return self._total

    @property
    def median(self) -> float | None:
        """The running median, None before the first observation."""
        if self._total == 0:
            return None
        if self._m == 0:
            return 0.0
        return math.exp(self._log_floor + (self._m - 0.5) * self._log_step)
