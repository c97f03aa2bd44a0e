"""Scores for probability forecasts: log loss, Brier, accuracy, calibration slope, reliability.

Pure numpy so that the evaluation and the calibration fits share one definition of each number.
The calibration slope is the slope of a logistic regression of the outcome on logit(p) (with an
intercept): 1 means the forecasts are as confident as they should be, > 1 under-confident.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PROBABILITY_FLOOR: Final = 1e-12
RELIABILITY_BINS: Final = 10


def _clip(p: FloatArray) -> FloatArray:
    return np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)


def logit(p: FloatArray) -> FloatArray:
    q = _clip(p)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


def log_loss(p: FloatArray, y: FloatArray) -> float:
    q = _clip(p)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log1p(-q)))


def brier(p: FloatArray, y: FloatArray) -> float:
    return float(np.mean((p - y) ** 2))


def accuracy(p: FloatArray, y: FloatArray) -> float:
    """Share of forecasts on the right side of 0.5; an exact 0.5 counts as half right."""
    right = np.where(p == 0.5, 0.5, ((p > 0.5) == (y > 0.5)).astype(np.float64))
    return float(np.mean(right))


def logistic_fit(x: FloatArray, y: FloatArray, iterations: int = 50) -> tuple[float, float]:
    """(intercept, slope) of P(y=1) = sigmoid(a + b x) by Newton's method (maximum likelihood)."""
    a, b = 0.0, 1.0
    for _ in range(iterations):
        eta = np.clip(a + b * x, -40.0, 40.0)
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = mu * (1.0 - mu)
        r = y - mu
        g0, g1 = float(np.sum(r)), float(np.sum(r * x))
        h00, h01, h11 = float(np.sum(w)), float(np.sum(w * x)), float(np.sum(w * x * x))
        det = h00 * h11 - h01 * h01
        if det <= 0.0:
            break
        da = (h11 * g0 - h01 * g1) / det
        db = (h00 * g1 - h01 * g0) / det
        a, b = a + da, b + db
        if abs(da) < 1e-12 and abs(db) < 1e-12:
            break
    return a, b


def calibration_slope(p: FloatArray, y: FloatArray) -> tuple[float, float]:
    """(slope, intercept) of the logistic recalibration of outcomes on logit(p).

    NaN for both when every outcome is the same (one match, say): the slope is then undefined.
    """
    if y.size == 0 or np.all(y == y[0]):
        return math.nan, math.nan
    intercept, slope = logistic_fit(logit(p), y)
    return slope, intercept


def reliability_table(p: FloatArray, y: FloatArray, bins: int = RELIABILITY_BINS) -> dict[str, Any]:
    """Equal-width bins on [0, 1]: mean forecast, observed frequency and count per bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(counts > 0, sum_p / np.maximum(counts, 1), np.nan)
        freq = np.where(counts > 0, sum_y / np.maximum(counts, 1), np.nan)
    return {
        "bin_edges": [round(float(e), 10) for e in edges],
        "mean_predicted": [None if np.isnan(v) else float(v) for v in mean_p],
        "observed_frequency": [None if np.isnan(v) else float(v) for v in freq],
        "count": [int(c) for c in counts],
    }


def score_forecasts(p: FloatArray, y: FloatArray) -> dict[str, Any]:
    """Every headline number for one group of (forecast, outcome) pairs."""
    if p.shape != y.shape:
        raise ValueError(f"forecasts: shape {p.shape} does not match outcomes {y.shape}")
    if p.size == 0:
        raise ValueError("forecasts: no states to score")
    slope, intercept = calibration_slope(p, y)
    return {
        "n_states": int(p.size),
        "log_loss": log_loss(p, y),
        "brier": brier(p, y),
        "accuracy": accuracy(p, y),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "reliability": reliability_table(p, y),
    }
