"""In-play updating of the serve-point probabilities and the final recalibration of P(match).

Two small, pure transforms, both fitted on real Grand Slam data (see `courtside physics eval` and
benchmarks/RESULTS.md):

* Serve-strength shrinkage. The pre-match line gives each player's serve-point probability; the
  points played so far are evidence about today's level. A Beta prior centred on the calibrated
  value with a strength of `k` pseudo-points gives the posterior mean
  ``(k * p0 + won) / (k + played)``. A weak prior (small k) chases noise and makes forecasts worse
  (DESIGN.md §4), so k is large and chosen from data.
* Logit-slope recalibration ``p' = sigmoid(slope * logit(p))``. The point-independence Markov
  chain is systematically under-confident for men (0.65 forecasts win ~70%); a per-tour slope
  fitted on earlier years corrects it. Symmetric in the players (no intercept).

The in-play engine calls these per point through `ServeStrengthTracker` and `recalibrate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayOrFloat = TypeVar("ArrayOrFloat", float, FloatArray)

_P_MIN: Final = 1e-6
_P_MAX: Final = 1.0 - 1e-6


def _check_probability(field_name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise ValueError(f"{field_name}: must be a probability in (0, 1), got {value!r}")


def _check_strength(strength: float) -> None:
    if not (strength > 0.0):  # also refuses NaN; math.inf means "never update"
        raise ValueError(f"strength: prior strength must be > 0 points, got {strength!r}")


def shrink_serve_probability(
    prior: ArrayOrFloat, won: ArrayOrFloat, played: ArrayOrFloat, strength: float
) -> ArrayOrFloat:
    """Posterior mean of a serve-point probability under a Beta(k*p0, k*(1-p0)) prior.

    Works element-wise on numpy arrays. ``strength`` = k pseudo-points; ``math.inf`` returns the
    prior unchanged (the fixed-p model).
    """
    _check_strength(strength)
    if math.isinf(strength):
        return prior
    return (strength * prior + won) / (strength + played)


def opening_fair(p1_prematch: float, slope: float) -> float:
    """The fair price at 0-0: the chain is calibrated so that P(match) there equals the de-vigged
    pre-match probability, then the tour's logit slope applies as at every point. One function
    so that the engine and the aligner give a match's first token the same previous price."""
    return float(recalibrate(float(p1_prematch), slope))


def recalibrate(p: ArrayOrFloat, slope: float) -> ArrayOrFloat:
    """``sigmoid(slope * logit(p))``: sharpens (slope > 1) or softens forecasts, keeps 0.5 fixed."""
    if not (math.isfinite(slope) and slope > 0.0):
        raise ValueError(f"slope: must be a finite number > 0, got {slope!r}")
    if slope == 1.0:
        return p
    if isinstance(p, np.ndarray):
        q = np.clip(p, 1e-15, 1.0 - 1e-15)
        z = slope * (np.log(q) - np.log1p(-q))
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)
    q_scalar = min(max(float(p), 1e-15), 1.0 - 1e-15)
    z_scalar = slope * (math.log(q_scalar) - math.log1p(-q_scalar))
    return 0.5 * (1.0 + math.tanh(0.5 * z_scalar))


@dataclass(frozen=True, slots=True)
class InplayParams:
    """Per-tour in-play settings: prior strength k (points) and the logit slope."""

    strength: float
    slope: float

    def __post_init__(self) -> None:
        _check_strength(self.strength)
        if not (math.isfinite(self.slope) and self.slope > 0.0):
            raise ValueError(f"slope: must be a finite number > 0, got {self.slope!r}")


@dataclass(slots=True)
class ServeStrengthTracker:
    """Serve points seen so far in one match and the shrunk (pa, pb) they imply.

    pa: P(player 1 wins a point on his/her serve), pb: the same for player 2 — both the pre-match
    calibrated values. Call `record_point` after each point; read `current()` before the next.
    """

    prematch_pa: float
    prematch_pb: float
    strength: float
    served_a: int = field(default=0)
    won_a: int = field(default=0)
    served_b: int = field(default=0)
    won_b: int = field(default=0)

    def __post_init__(self) -> None:
        _check_probability("pa", self.prematch_pa)
        _check_probability("pb", self.prematch_pb)
        _check_strength(self.strength)

    def record_point(self, server: int, server_won: bool) -> None:
        """Count one completed point served by player `server` (1 or 2)."""
        if server == 1:
            self.served_a += 1
            self.won_a += int(server_won)
        elif server == 2:
            self.served_b += 1
            self.won_b += int(server_won)
        else:
            raise ValueError(f"server: must be 1 or 2, got {server!r}")

    def after(self, server: int, server_won: bool) -> tuple[float, float]:
        """`current()` as it will be once this point is recorded; the tracker is unchanged."""
        twin = replace(self)
        twin.record_point(server, server_won)
        return twin.current()

    def current(self) -> tuple[float, float]:
        """(pa, pb) after shrinking the observed serve records towards the pre-match values."""
        pa = shrink_serve_probability(self.prematch_pa, self.won_a, self.served_a, self.strength)
        pb = shrink_serve_probability(self.prematch_pb, self.won_b, self.served_b, self.strength)
        return min(max(pa, _P_MIN), _P_MAX), min(max(pb, _P_MIN), _P_MAX)
