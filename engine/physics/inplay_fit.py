"""Fit the in-play parameters (prior strength k, logit slope) per tour, with an honest time split.

For each candidate k the shrinkage model is run over every point; the logit slope is then fitted by
maximum likelihood on the FIT years only, and both are scored on the fit years and, when given, on
later TEST years the fit never saw. The chosen (k, slope) minimises fit-years log loss. Used by
`benchmarks/physics_inplay_fit.py`; engine.toml `[physics]` ships the values fitted on every year of
the slams set, after the 2011-2013 -> 2014-2015 split showed the procedure generalises.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.physics.calibration import PhysicsConfig
from engine.physics.eval_data import SlamDataset
from engine.physics.eval_metrics import calibration_slope, log_loss, logit
from engine.physics.evaluate import (
    PrematchArrays,
    chain_probabilities,
    prematch_arrays,
    serve_probabilities,
)
from engine.physics.inplay import recalibrate

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Years = tuple[int, int]


def fit_logit_slope(p: FloatArray, y: FloatArray, iterations: int = 50) -> float:
    """Maximum-likelihood b in P(y=1) = sigmoid(b * logit(p)).

    No intercept: which player is "player 1" is arbitrary, so the transform must keep 0.5 at 0.5.
    """
    z = logit(p)
    b = 1.0
    for _ in range(iterations):
        mu = 1.0 / (1.0 + np.exp(-np.clip(b * z, -40.0, 40.0)))
        gradient = float(np.sum((y - mu) * z))
        curvature = float(np.sum(mu * (1.0 - mu) * z * z))
        if curvature <= 0.0:
            break
        step = gradient / curvature
        b += step
        if abs(step) < 1e-12:
            break
    return b


@dataclass(frozen=True)
class CurvePoint:
    """Scores of one prior strength for one tour (test_* are NaN without a test split)."""

    strength: float
    slope: float
    fit_log_loss: float
    fit_log_loss_recalibrated: float
    test_log_loss: float
    test_log_loss_recalibrated: float
    test_calibration_slope_recalibrated: float

    def as_dict(self) -> dict[str, Any]:
        return {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in asdict(self).items()
        }


def _years_mask(years: FloatArray | npt.NDArray[np.int64], span: Years) -> BoolArray:
    return np.asarray((years >= span[0]) & (years <= span[1]), dtype=np.bool_)


def strength_curve(
    dataset: SlamDataset,
    tour: str,
    strengths: Sequence[float],
    *,
    fit_years: Years,
    test_years: Years | None,
    config: PhysicsConfig,
    prematch: PrematchArrays | None = None,
) -> list[CurvePoint]:
    """Log loss of the shrinkage model against k, raw and after a slope fitted on `fit_years`."""
    tour_mask = dataset.matches.tour == tour
    if not np.any(tour_mask):
        raise ValueError(f"tour: no {tour!r} matches in the data")
    data = dataset.subset_matches(tour_mask)
    prematch = prematch if prematch is not None else prematch_arrays(data.matches, config)
    year = data.matches.year[data.points.match_index]
    fit = _years_mask(year, fit_years)
    test = _years_mask(year, test_years) if test_years is not None else np.zeros_like(fit)
    if not np.any(fit) or (test_years is not None and not np.any(test)):
        raise ValueError("years: the fit or the test split is empty")
    y = data.outcome()
    curve = []
    for strength in strengths:
        per_match = np.full(len(data.matches), float(strength))
        pa, pb = serve_probabilities(data, prematch, per_match)
        p = chain_probabilities(data, pa, pb)
        slope = fit_logit_slope(p[fit], y[fit])
        q = recalibrate(p, slope)
        has_test = bool(np.any(test))
        curve.append(
            CurvePoint(
                strength=float(strength),
                slope=slope,
                fit_log_loss=log_loss(p[fit], y[fit]),
                fit_log_loss_recalibrated=log_loss(q[fit], y[fit]),
                test_log_loss=log_loss(p[test], y[test]) if has_test else math.nan,
                test_log_loss_recalibrated=log_loss(q[test], y[test]) if has_test else math.nan,
                test_calibration_slope_recalibrated=(
                    calibration_slope(q[test], y[test])[0] if has_test else math.nan
                ),
            )
        )
    return curve


def best_on_fit(curve: Sequence[CurvePoint]) -> CurvePoint:
    """The strength (with its slope) with the lowest recalibrated log loss on the fit years."""
    if not curve:
        raise ValueError("strengths: empty curve")
    return min(curve, key=lambda point: point.fit_log_loss_recalibrated)
