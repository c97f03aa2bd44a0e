"""The physics model on the real slam point-by-point set (../shared/data/slams)."""

from dataclasses import replace

import pytest
import structlog

from engine.physics.calibration import PhysicsConfig
from engine.physics.eval_data import load_slams
from engine.physics.evaluate import evaluation_report, predict
from engine.physics.inplay_fit import best_on_fit, strength_curve


@pytest.fixture(autouse=True)
def _fresh_structlog():
    """The CLI binds structlog to the (captured) stderr of the test that ran it; start clean."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="module")
def slams(shared_data):
    folder = shared_data / "slams"
    return load_slams(folder / "matches.csv", folder / "points.parquet")


def test_inplay_model_beats_fixed_baseline_with_calibrated_slope(slams):
    config = PhysicsConfig()
    fixed = evaluation_report(slams, predict(slams, "fixed", config))
    inplay = evaluation_report(slams, predict(slams, "inplay", config))
    for tour in ("ATP", "WTA"):
        assert inplay[tour]["n_matches"] > 1500
        assert inplay[tour]["log_loss"] < fixed[tour]["log_loss"]
        assert inplay[tour]["brier"] < fixed[tour]["brier"]
        assert 0.95 <= inplay[tour]["calibration_slope"] <= 1.05
    # The baseline reproduces DESIGN.md §8's reference (men .362 / women .421 on 2011-14) closely.
    assert fixed["ATP"]["log_loss"] == pytest.approx(0.362, abs=0.015)
    assert fixed["WTA"]["log_loss"] == pytest.approx(0.421, abs=0.025)


def test_parameters_fitted_on_early_years_beat_the_baseline_on_later_years(slams):
    config = PhysicsConfig()
    chosen = {}
    for tour in ("ATP", "WTA"):
        curve = strength_curve(
            slams,
            tour,
            (150.0, 300.0, 600.0, 1200.0),
            fit_years=(2011, 2013),
            test_years=None,
            config=config,
        )
        chosen[tour] = best_on_fit(curve)
    fitted = replace(
        config,
        inplay_strength_atp=chosen["ATP"].strength,
        inplay_slope_atp=chosen["ATP"].slope,
        inplay_strength_wta=chosen["WTA"].strength,
        inplay_slope_wta=chosen["WTA"].slope,
    )
    later = slams.subset_matches(slams.matches.year >= 2014)
    fixed = evaluation_report(later, predict(later, "fixed", config))
    inplay = evaluation_report(later, predict(later, "inplay", fitted))
    for tour in ("ATP", "WTA"):
        assert inplay[tour]["n_matches"] > 800
        assert inplay[tour]["log_loss"] < fixed[tour]["log_loss"]
