import math

import numpy as np
import pytest

from engine.physics.inplay import (
    InplayParams,
    ServeStrengthTracker,
    recalibrate,
    shrink_serve_probability,
)


def test_shrinkage_is_the_beta_posterior_mean():
    # Beta(100 * 0.65, 100 * 0.35) prior, 30 of 40 serve points won: (65 + 30) / (100 + 40).
    assert shrink_serve_probability(0.65, 30, 40, 100.0) == pytest.approx(95 / 140, abs=1e-15)


def test_shrinkage_without_data_returns_the_prior():
    assert shrink_serve_probability(0.62, 0, 0, 250.0) == pytest.approx(0.62, abs=1e-15)


def test_infinite_strength_never_updates():
    assert shrink_serve_probability(0.62, 90, 100, math.inf) == 0.62


def test_shrinkage_moves_towards_the_observed_rate_as_points_accumulate():
    few = shrink_serve_probability(0.6, 8, 10, 200.0)
    many = shrink_serve_probability(0.6, 800, 1000, 200.0)
    assert 0.6 < few < many < 0.8


def test_shrinkage_is_elementwise_on_arrays():
    out = shrink_serve_probability(
        np.array([0.6, 0.7]), np.array([10.0, 0.0]), np.array([10.0, 10.0]), 10.0
    )
    np.testing.assert_allclose(out, [(6 + 10) / 20, 7 / 20])


@pytest.mark.parametrize("strength", [0.0, -5.0, math.nan])
def test_bad_strength_is_refused(strength):
    with pytest.raises(ValueError, match="strength"):
        shrink_serve_probability(0.6, 1, 2, strength)


def test_recalibrate_keeps_half_and_sharpens_with_slope_above_one():
    assert recalibrate(0.5, 1.3) == pytest.approx(0.5, abs=1e-15)
    assert recalibrate(0.65, 1.3) > 0.65
    assert recalibrate(0.35, 1.3) < 0.35
    # logit(0.65) * 2 -> sigmoid: 0.65^2 / (0.65^2 + 0.35^2)
    assert recalibrate(0.65, 2.0) == pytest.approx(0.65**2 / (0.65**2 + 0.35**2), abs=1e-14)


def test_recalibrate_scalar_and_array_agree_and_slope_one_is_identity():
    p = np.array([0.01, 0.3, 0.5, 0.93])
    np.testing.assert_allclose(recalibrate(p, 1.2), [recalibrate(float(x), 1.2) for x in p])
    assert recalibrate(0.37, 1.0) == 0.37


@pytest.mark.parametrize("slope", [0.0, -1.0, math.inf, math.nan])
def test_bad_slope_is_refused(slope):
    with pytest.raises(ValueError, match="slope"):
        recalibrate(0.6, slope)
    with pytest.raises(ValueError, match="slope"):
        InplayParams(strength=100.0, slope=slope)


def test_tracker_counts_each_players_serve_points():
    tracker = ServeStrengthTracker(prematch_pa=0.66, prematch_pb=0.60, strength=100.0)
    for won in (True, True, False, True):
        tracker.record_point(1, won)
    tracker.record_point(2, False)
    pa, pb = tracker.current()
    assert (tracker.served_a, tracker.won_a, tracker.served_b, tracker.won_b) == (4, 3, 1, 0)
    assert pa == pytest.approx((66 + 3) / 104, abs=1e-15)
    assert pb == pytest.approx(60 / 101, abs=1e-15)


def test_tracker_refuses_bad_input():
    with pytest.raises(ValueError, match="pa"):
        ServeStrengthTracker(prematch_pa=1.0, prematch_pb=0.6, strength=100.0)
    with pytest.raises(ValueError, match="pb"):
        ServeStrengthTracker(prematch_pa=0.6, prematch_pb=-0.1, strength=100.0)
    tracker = ServeStrengthTracker(prematch_pa=0.6, prematch_pb=0.6, strength=100.0)
    with pytest.raises(ValueError, match="server"):
        tracker.record_point(3, True)


def test_fit_logit_slope_recovers_a_known_slope_without_intercept():
    from engine.physics.inplay_fit import fit_logit_slope

    rng = np.random.default_rng(5)
    p = rng.uniform(0.03, 0.97, 200_000)
    z = 0.8 * np.log(p / (1 - p))
    y = (rng.uniform(size=p.size) < 1 / (1 + np.exp(-z))).astype(float)
    assert fit_logit_slope(p, y) == pytest.approx(0.8, abs=0.03)
