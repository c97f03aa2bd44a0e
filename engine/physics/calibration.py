"""Pre-match calibration: turn a bookmaker's line into serve-point probabilities (p_a, p_b).

The market's pre-match price is the best single estimate of who wins, so the chain must reproduce
it at 0-0. One number cannot pin two unknowns, so p_a + p_b is fixed to the tour/surface average
(how serve-dominated the matches are: men on grass ~1.325, women on clay ~1.111, DESIGN.md §4), or
supplied by the learned serve-point prior (`prior_serve_sum`), and the gap p_a - p_b is solved so
that P(match) at the start equals the de-vigged probability.
P(match) is strictly increasing in the gap, so a bracketing root finder always converges.

Also holds `PhysicsConfig`, the `[physics]` table of engine.toml (sums and in-play settings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from engine.config import DEFAULT_CONFIG_PATH, load_toml, parse_section, section_table
from engine.physics.devig import DevigMethod, devig
from engine.physics.inplay import InplayParams
from engine.physics.pricing import p_match, p_match_batch
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState

FloatArray = npt.NDArray[np.float64]

TOURS: Final = ("ATP", "WTA")
SURFACES: Final = ("Hard", "Clay", "Grass")

# Keep the gap strictly inside the open square (0, 1)^2 so the chain sees legal probabilities.
_EDGE: Final = 1e-9
_MAX_ITERATIONS: Final = 200
_F_TOLERANCE: Final = 1e-13
_X_TOLERANCE: Final = 1e-15
_BATCH_BISECTIONS: Final = 64


@dataclass(frozen=True, slots=True)
class PhysicsConfig:
    """engine.toml `[physics]`: serve-point sums and the in-play updating parameters.

    sum_<tour>_<surface>: p_a + p_b used to invert the pre-match line (DESIGN.md §4).
    devig: how the bookmaker margin is removed (power, shin or multiplicative).
    inplay_strength_<tour>: Beta-prior strength k, in serve points, of the in-play shrinkage.
    inplay_slope_<tour>: logit slope applied to P(match) (1 = none). Both fitted on the slams set,
    2011-2015; the same procedure fitted on 2011-2013 beats the baseline on 2014-2015
    (benchmarks/RESULTS.md).
    serve_sum_source: "table" (the sums above) or "prior": p_a + p_b from the learned serve-point
    prior (`prior_model`, features from the results in `prior_results_dir`), clipped to
    [prior_sum_min, prior_sum_max]; a match the prior cannot price uses the table. Relative paths
    are read from the working directory; with "prior" both must exist at start. prior_lag_days:
    the engine folds only tournaments that started this long before the match, so everything
    folded has finished (a slam lasts 15 days) even when replaying over historical results.
    """

    sum_atp_hard: float = 1.287
    sum_atp_clay: float = 1.242
    sum_atp_grass: float = 1.325
    sum_wta_hard: float = 1.137
    sum_wta_clay: float = 1.111
    sum_wta_grass: float = 1.180
    devig: DevigMethod = "power"
    inplay_strength_atp: float = 600.0
    inplay_strength_wta: float = 200.0
    inplay_slope_atp: float = 1.093
    inplay_slope_wta: float = 0.937
    serve_sum_source: Literal["table", "prior"] = "table"
    prior_model: str = "models_onnx/prior.onnx"
    prior_results_dir: str = "../shared/data/results"
    prior_sum_min: float = 1.0
    prior_sum_max: float = 1.5
    prior_lag_days: int = 15

    def validate(self) -> None:
        for tour in TOURS:
            for surface in SURFACES:
                key = f"sum_{tour.lower()}_{surface.lower()}"
                _check_serve_sum(key, getattr(self, key))
            key = f"inplay_strength_{tour.lower()}"
            if not getattr(self, key) > 0.0:
                raise ValueError(f"{key}: must be > 0 points, got {getattr(self, key)!r}")
            key = f"inplay_slope_{tour.lower()}"
            value = getattr(self, key)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{key}: must be a finite number > 0, got {value!r}")
        _check_serve_sum("prior_sum_min", self.prior_sum_min)
        _check_serve_sum("prior_sum_max", self.prior_sum_max)
        if not self.prior_sum_min < self.prior_sum_max:
            raise ValueError(
                f"prior_sum_max: must exceed prior_sum_min {self.prior_sum_min!r}, "
                f"got {self.prior_sum_max!r}"
            )
        if not 0 <= self.prior_lag_days <= 366:
            raise ValueError(f"prior_lag_days: must be 0..366 days, got {self.prior_lag_days!r}")
        if self.serve_sum_source == "prior":
            if not Path(self.prior_model).is_file():
                raise ValueError(f"prior_model: file not found: {self.prior_model}")
            if not Path(self.prior_results_dir).is_dir():
                raise ValueError(f"prior_results_dir: folder not found: {self.prior_results_dir}")

    @property
    def prior_sum_band(self) -> tuple[float, float]:
        return self.prior_sum_min, self.prior_sum_max

    def serve_sum(self, tour: str, surface: str) -> float:
        """p_a + p_b for a tour and surface (names are case-insensitive)."""
        return float(
            getattr(
                self, f"sum_{normalise_tour(tour).lower()}_{normalise_surface(surface).lower()}"
            )
        )

    def inplay(self, tour: str) -> InplayParams:
        name = normalise_tour(tour).lower()
        return InplayParams(
            strength=getattr(self, f"inplay_strength_{name}"),
            slope=getattr(self, f"inplay_slope_{name}"),
        )


def load_physics_config(path: str | Path | None = None) -> PhysicsConfig:
    """`[physics]` from engine.toml; the dataclass defaults when no file is given or shipped."""
    if path is None and not DEFAULT_CONFIG_PATH.is_file():
        return PhysicsConfig()
    table = section_table(load_toml(path), "physics")
    return parse_section(table, "physics", PhysicsConfig)


def normalise_tour(tour: str) -> str:
    value = str(tour).strip().upper()
    if value not in TOURS:
        raise ValueError(f"tour: unknown {tour!r}, expected one of {list(TOURS)}")
    return value


def normalise_surface(surface: str) -> str:
    value = str(surface).strip().capitalize()
    if value not in SURFACES:
        raise ValueError(f"surface: unknown {surface!r}, expected one of {list(SURFACES)}")
    return value


def _check_serve_sum(field_name: str, serve_sum: float) -> None:
    if not (math.isfinite(serve_sum) and 0.0 < serve_sum < 2.0):
        raise ValueError(f"{field_name}: p_a + p_b must lie in (0, 2), got {serve_sum!r}")


def _check_target(field_name: str, target: float) -> None:
    if not (math.isfinite(target) and 0.0 < target < 1.0):
        raise ValueError(f"{field_name}: must be a probability in (0, 1), got {target!r}")


def _gap_limit(serve_sum: float) -> float:
    """Largest |p_a - p_b| keeping both probabilities inside (0, 1) for this sum."""
    return min(serve_sum, 2.0 - serve_sum) * (1.0 - _EDGE)


def match_start_state() -> MatchState:
    """0-0 at the start of the match, player 1 to serve (who serves first does not matter)."""
    return MatchState(sets=(0, 0), games=(0, 0), points=(0, 0), server=1)


def prior_serve_sum(p_a_prior: float, p_b_prior: float, band: tuple[float, float]) -> float:
    """p_a + p_b from the prior's two predictions (player 1 serving to player 2, and the reverse),
    clipped to `band`: the prior supplies the level of serve dominance, the line the gap."""
    lo, hi = band
    if not 0.0 < lo < hi < 2.0:
        raise ValueError(f"band: expected 0 < low < high < 2, got {band!r}")
    for name, value in (("p_a_prior", p_a_prior), ("p_b_prior", p_b_prior)):
        if not (math.isfinite(value) and 0.0 < value < 1.0):
            raise ValueError(f"{name}: must be a probability in (0, 1), got {value!r}")
    return min(max(p_a_prior + p_b_prior, lo), hi)


def prematch_serve_sum(table_sum: float, prior_sum: float | None) -> float:
    """The sum the inversion uses: the prior's when it supplied one, else the table's."""
    chosen = table_sum if prior_sum is None else prior_sum
    _check_serve_sum("serve_sum", chosen)
    return chosen


def invert_prematch(p1_prematch: float, rules: MatchRules, serve_sum: float) -> tuple[float, float]:
    """(p_a, p_b) with p_a + p_b = serve_sum and P(player 1 wins) at 0-0 equal to p1_prematch.

    Illinois-modified regula falsi on the gap d = p_a - p_b, which keeps a bracket (robust like
    bisection) but converges superlinearly: 3-20 chain evaluations (~40 µs).
    """
    _check_target("p1_prematch", p1_prematch)
    _check_serve_sum("serve_sum", serve_sum)
    start = match_start_state()
    limit = _gap_limit(serve_sum)

    def excess(gap: float) -> float:
        return p_match((serve_sum + gap) / 2.0, (serve_sum - gap) / 2.0, rules, start) - p1_prematch

    lo, hi = -limit, limit
    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo > 0.0 or f_hi < 0.0:
        raise ValueError(
            f"p1_prematch: {p1_prematch!r} is not reachable with p_a + p_b = {serve_sum!r}"
        )
    gap, side = 0.0, 0
    for _ in range(_MAX_ITERATIONS):
        gap = (lo * f_hi - hi * f_lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)
        if not lo < gap < hi:
            gap = 0.5 * (lo + hi)
        f_gap = excess(gap)
        if abs(f_gap) <= _F_TOLERANCE or hi - lo <= _X_TOLERANCE:
            break
        if f_gap < 0.0:
            lo, f_lo = gap, f_gap
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = gap, f_gap
            if side == 1:
                f_lo *= 0.5
            side = 1
    return (serve_sum + gap) / 2.0, (serve_sum - gap) / 2.0


def invert_prematch_batch(
    p1_prematch: FloatArray, rules: MatchRules, serve_sum: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Vectorised `invert_prematch` for many matches of one format (bisection, 64 halvings)."""
    target = np.asarray(p1_prematch, dtype=np.float64)
    sums = np.broadcast_to(np.asarray(serve_sum, dtype=np.float64), target.shape)
    if target.size and not np.all((target > 0.0) & (target < 1.0)):
        raise ValueError("p1_prematch: every value must be a probability in (0, 1)")
    if sums.size and not np.all((sums > 0.0) & (sums < 2.0)):
        raise ValueError("serve_sum: every value must lie in (0, 2)")
    states = np.zeros((target.size, 7), dtype=np.int64)
    states[:, 6] = 1
    limit = np.minimum(sums, 2.0 - sums) * (1.0 - _EDGE)
    lo, hi = -limit.copy(), limit.copy()
    for _ in range(_BATCH_BISECTIONS):
        mid = 0.5 * (lo + hi)
        p = p_match_batch((sums + mid) / 2.0, (sums - mid) / 2.0, rules, states)
        below = p < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    gap = 0.5 * (lo + hi)
    return (sums + gap) / 2.0, (sums - gap) / 2.0


@dataclass(frozen=True, slots=True)
class PrematchCalibration:
    """What `courtside physics calibrate` prints."""

    p1_prematch: float
    pa: float
    pb: float
    serve_sum: float
    devig: str


def calibrate_from_odds(
    odds_p1: float,
    odds_p2: float,
    rules: MatchRules,
    serve_sum: float,
    method: str = "power",
) -> PrematchCalibration:
    """De-vig two-sided decimal odds and invert the chain for (p_a, p_b)."""
    p1, _p2 = devig(odds_p1, odds_p2, method)
    pa, pb = invert_prematch(p1, rules, serve_sum)
    return PrematchCalibration(p1_prematch=p1, pa=pa, pb=pb, serve_sum=serve_sum, devig=method)
