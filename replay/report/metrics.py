"""Pure functions behind the report's numbers (no I/O, no plotting), each testable on its own."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_EPS = 1e-6


def cumulative(values: Iterable[float]) -> list[float]:
    """Running sum."""
    total = 0.0
    out = []
    for value in values:
        total += value
        out.append(total)
    return out


def max_drawdown(pnls: Sequence[float]) -> float:
    """Largest fall of the cumulative P&L from its running peak (the start, 0, counts as a peak);
    0.0 when it never falls. Reported as a positive amount."""
    peak = 0.0
    worst = 0.0
    for value in cumulative(pnls):
        peak = max(peak, value)
        worst = max(worst, peak - value)
    return worst


def sharpe(returns: Sequence[float]) -> float | None:
    """Mean over sample standard deviation of per-market returns (not annualised: markets are
    not periods); None with fewer than two returns or no dispersion."""
    n = len(returns)
    if n < 2:
        return None
    mean = sum(returns) / n
    var = sum((r - mean) ** 2 for r in returns) / (n - 1)
    if var <= 0.0:
        return None
    return mean / math.sqrt(var)


def rmse_ppt(pairs: Iterable[tuple[float, float]]) -> tuple[float | None, int]:
    """Root mean squared difference in percentage points, and how many pairs it is over."""
    total = 0.0
    n = 0
    for a, b in pairs:
        total += (a - b) ** 2
        n += 1
    if n == 0:
        return None, 0
    return math.sqrt(total / n) * 100.0, n


def log_loss(probs: Sequence[float], outcomes: Sequence[int]) -> float | None:
    """Mean negative log likelihood of binary outcomes (probabilities clipped to [1e-6, 1-1e-6])."""
    if not probs:
        return None
    total = 0.0
    for p, y in zip(probs, outcomes, strict=True):
        q = min(max(p, _EPS), 1.0 - _EPS)
        total -= math.log(q) if y else math.log(1.0 - q)
    return total / len(probs)


def brier(probs: Sequence[float], outcomes: Sequence[int]) -> float | None:
    """Mean squared error of the probabilities against 0/1 outcomes."""
    if not probs:
        return None
    return sum((p - y) ** 2 for p, y in zip(probs, outcomes, strict=True)) / len(probs)


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_predicted: float | None
    observed: float | None


def calibration(
    probs: Sequence[float], outcomes: Sequence[int], bins: int = 10
) -> list[CalibrationBin]:
    """Equal-width reliability bins over [0, 1] (1.0 falls in the last bin)."""
    sums = [0.0] * bins
    hits = [0] * bins
    counts = [0] * bins
    for p, y in zip(probs, outcomes, strict=True):
        i = min(int(p * bins), bins - 1) if p >= 0.0 else 0
        sums[i] += p
        hits[i] += y
        counts[i] += 1
    return [
        CalibrationBin(
            i / bins,
            (i + 1) / bins,
            counts[i],
            sums[i] / counts[i] if counts[i] else None,
            hits[i] / counts[i] if counts[i] else None,
        )
        for i in range(bins)
    ]


def back_lay_profit(side: str, price: float, size: float, won: bool) -> float:
    """Gross profit of a matched bet on a selection that `won` (or lost)."""
    if side == "BACK":
        return size * (price - 1.0) if won else -size
    return -size * (price - 1.0) if won else size


def windows_overlap(ts: float, windows: Sequence[tuple[float, float | None]]) -> bool:
    """Is `ts` inside any [start, end] window (end None: still open)?"""
    return any(start <= ts and (end is None or ts <= end) for start, end in windows)
