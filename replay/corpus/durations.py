"""Time between points, for matches whose source has no clock.

Fitted on the slam matches that do have `elapsed_s` (about 1,580 of 3,538): the gap from one
point's start to the next point's start is log-normal by tour and by what happened in between —
a plain point, a tiebreak point, a game end, a changeover (odd game: 90 s rule) or a set break
(120 s rule). The fit is the median and a robust log standard deviation (1.4826 × MAD of the log)
of gaps in (0, 900] s; longer gaps are stoppages and are left to the event model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from replay.corpus.slams import MatchInfo, MatchPoints

GAP_KINDS = ("point", "tiebreak", "game", "changeover", "set")
_MAX_FIT_GAP_S = 900.0
_MIN_SAMPLES = 50
# Used only when a (tour, kind) has too few clocked gaps to fit (never with the shared data).
_FALLBACK = {
    "point": (28.0, 0.35),
    "tiebreak": (30.0, 0.35),
    "game": (45.0, 0.35),
    "changeover": (120.0, 0.25),
    "set": (170.0, 0.3),
}


def gap_kinds(points: MatchPoints) -> list[str]:
    """What happened after each point (the gap to the next point's start)."""
    kinds = []
    for i in range(len(points)):
        if points.set_end[i]:
            kinds.append("set")
        elif points.changeover[i]:
            kinds.append("changeover")
        elif points.game_end[i]:
            kinds.append("game")
        elif points.tiebreak[i]:
            kinds.append("tiebreak")
        else:
            kinds.append("point")
    return kinds


@dataclass(frozen=True, slots=True)
class DurationModel:
    """Log-normal gap parameters: key "TOUR:kind" -> (median seconds, log sd)."""

    gaps: dict[str, tuple[float, float]]

    def params(self, tour: str, kind: str) -> tuple[float, float]:
        return self.gaps.get(f"{tour}:{kind}", _FALLBACK[kind])

    def sample(self, rng: np.random.Generator, tour: str, kind: str) -> float:
        median, log_sd = self.params(tour, kind)
        return float(median * math.exp(log_sd * rng.standard_normal()))

    def as_dict(self) -> dict[str, list[float]]:
        return {key: [round(m, 3), round(s, 4)] for key, (m, s) in sorted(self.gaps.items())}


def fit_duration_model(matches: Iterable[tuple[MatchInfo, MatchPoints]]) -> DurationModel:
    """Fit the gap model on every match that has a clock (deterministic: no sampling)."""
    samples: dict[str, list[float]] = {}
    for info, points in matches:
        elapsed = points.elapsed_s
        if len(elapsed) < 2 or not np.all(np.isfinite(elapsed)):
            continue
        gaps = np.diff(elapsed)
        for kind, gap in zip(gap_kinds(points)[:-1], gaps, strict=True):
            if 0.0 < gap <= _MAX_FIT_GAP_S:
                samples.setdefault(f"{info.tour}:{kind}", []).append(float(gap))
    fitted: dict[str, tuple[float, float]] = {}
    for key, values in samples.items():
        if len(values) < _MIN_SAMPLES:
            continue
        logs = np.log(np.asarray(values))
        centre = float(np.median(logs))
        spread = 1.4826 * float(np.median(np.abs(logs - centre)))
        fitted[key] = (math.exp(centre), max(spread, 0.05))
    return DurationModel(gaps=fitted)
