import math

import numpy as np
import pytest

from engine.physics.eval_metrics import (
    accuracy,
    brier,
    calibration_slope,
    log_loss,
    reliability_table,
    score_forecasts,
)


def test_log_loss_and_brier_by_hand():
    p = np.array([0.8, 0.3])
    y = np.array([1.0, 0.0])
    assert log_loss(p, y) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2, abs=1e-15)
    assert brier(p, y) == pytest.approx((0.04 + 0.09) / 2, abs=1e-15)


def test_accuracy_counts_exact_half_as_half_right():
    p = np.array([0.9, 0.2, 0.5, 0.6])
    y = np.array([1.0, 1.0, 1.0, 0.0])
    assert accuracy(p, y) == pytest.approx((1 + 0 + 0.5 + 0) / 4)


def test_calibration_slope_recovers_a_known_sharpening():
    # Outcomes drawn from sigmoid(1.5 * logit(p)): the forecasts p are under-confident, slope 1.5.
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, 200_000)
    z = 1.5 * np.log(p / (1 - p))
    y = (rng.uniform(size=p.size) < 1 / (1 + np.exp(-z))).astype(float)
    slope, intercept = calibration_slope(p, y)
    assert slope == pytest.approx(1.5, abs=0.03)
    assert intercept == pytest.approx(0.0, abs=0.03)


def test_calibrated_forecasts_have_slope_one():
    rng = np.random.default_rng(11)
    p = rng.uniform(0.02, 0.98, 200_000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    assert calibration_slope(p, y)[0] == pytest.approx(1.0, abs=0.03)


def test_reliability_table_bins_forecasts_into_tenths():
    p = np.array([0.05, 0.07, 0.55, 1.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    table = reliability_table(p, y)
    assert table["bin_edges"][0] == 0.0 and table["bin_edges"][-1] == 1.0
    assert len(table["count"]) == 10
    assert table["count"][0] == 3 and table["count"][5] == 1 and table["count"][9] == 1
    assert table["mean_predicted"][0] == pytest.approx(0.04)
    assert table["observed_frequency"][0] == pytest.approx(1 / 3)
    assert table["mean_predicted"][3] is None and table["count"][3] == 0


def test_score_forecasts_refuses_empty_or_mismatched_input():
    with pytest.raises(ValueError, match="forecasts"):
        score_forecasts(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="forecasts"):
        score_forecasts(np.array([0.5, 0.4]), np.array([1.0]))


def test_score_forecasts_has_every_headline_key():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.1, 0.9, 1000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    out = score_forecasts(p, y)
    assert set(out) >= {
        "n_states",
        "log_loss",
        "brier",
        "accuracy",
        "calibration_slope",
        "reliability",
    }
    assert out["n_states"] == 1000
