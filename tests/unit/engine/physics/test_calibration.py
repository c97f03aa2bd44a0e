import math

import numpy as np
import pytest

from engine.config import ConfigError, parse_section
from engine.physics.calibration import (
    PhysicsConfig,
    calibrate_from_odds,
    invert_prematch,
    invert_prematch_batch,
    load_physics_config,
    match_start_state,
    prematch_serve_sum,
    prior_serve_sum,
)
from engine.physics.devig import devig_power
from engine.physics.pricing import p_match
from engine.physics.rules import MatchRules

FORMATS = [
    MatchRules(best_of=3, final_set="tb7@6"),
    MatchRules(best_of=3, final_set="adv"),
    MatchRules(best_of=5, final_set="adv"),
    MatchRules(best_of=5, final_set="tb7@12"),
    MatchRules(best_of=5, final_set="tb10@6"),
    MatchRules(best_of=3, final_set="tb10@6", no_ad=True),
]
TOUR_SURFACES = [(t, s) for t in ("ATP", "WTA") for s in ("Hard", "Clay", "Grass")]


@pytest.mark.parametrize("rules", FORMATS, ids=lambda r: f"bo{r.best_of}-{r.final_set}-{r.no_ad}")
@pytest.mark.parametrize(("tour", "surface"), TOUR_SURFACES)
@pytest.mark.parametrize("target", [0.03, 0.31, 0.5, 0.6565110209, 0.97])
def test_inversion_round_trip_hits_the_target(rules, tour, surface, target):
    serve_sum = PhysicsConfig().serve_sum(tour, surface)
    pa, pb = invert_prematch(target, rules, serve_sum)
    assert pa + pb == pytest.approx(serve_sum, abs=1e-12)
    assert 0.0 < pa < 1.0 and 0.0 < pb < 1.0
    assert abs(p_match(pa, pb, rules, match_start_state()) - target) < 1e-9


def test_inversion_of_an_even_match_gives_equal_serve_probabilities():
    pa, pb = invert_prematch(0.5, MatchRules(best_of=5, final_set="adv"), 1.3)
    assert pa == pytest.approx(0.65, abs=1e-9)
    assert pb == pytest.approx(0.65, abs=1e-9)


def test_favourite_gets_the_larger_serve_probability():
    pa, pb = invert_prematch(0.8, MatchRules(), 1.2)
    assert pa > pb


def test_inversion_reproduces_a_published_oracle():
    # DESIGN.md §4: (p_a, p_b) = (.65, .62) gives best-of-3 .64659, so inverting .64659 with
    # p_a + p_b = 1.27 must come back near (.65, .62).
    pa, pb = invert_prematch(0.64659, MatchRules(best_of=3, final_set="tb7@6"), 1.27)
    assert pa == pytest.approx(0.65, abs=2e-5)
    assert pb == pytest.approx(0.62, abs=2e-5)


@pytest.mark.parametrize("rules", FORMATS[:5], ids=lambda r: f"bo{r.best_of}-{r.final_set}")
def test_batch_inversion_agrees_with_the_scalar_one(rules):
    targets = np.array([0.02, 0.2, 0.5, 0.77, 0.99])
    sums = np.array([1.287, 1.111, 1.325, 1.18, 1.242])
    pa, pb = invert_prematch_batch(targets, rules, sums)
    for i, target in enumerate(targets):
        a, b = invert_prematch(float(target), rules, float(sums[i]))
        assert pa[i] == pytest.approx(a, abs=1e-9)
        assert pb[i] == pytest.approx(b, abs=1e-9)
        assert abs(p_match(pa[i], pb[i], rules, match_start_state()) - target) < 1e-9


@pytest.mark.parametrize("target", [0.0, 1.0, -0.2, math.nan])
def test_impossible_targets_are_refused(target):
    with pytest.raises(ValueError, match="p1_prematch"):
        invert_prematch(target, MatchRules(), 1.2)
    with pytest.raises(ValueError, match="p1_prematch"):
        invert_prematch_batch(np.array([0.5, target]), MatchRules(), np.array([1.2, 1.2]))


@pytest.mark.parametrize("serve_sum", [0.0, 2.0, 2.5, -1.0, math.inf])
def test_impossible_sums_are_refused(serve_sum):
    with pytest.raises(ValueError, match="serve_sum"):
        invert_prematch(0.6, MatchRules(), serve_sum)


def test_calibrate_from_odds_chains_devig_and_inversion():
    rules = MatchRules(best_of=5, final_set="adv")
    result = calibrate_from_odds(1.50, 2.80, rules, 1.325, "power")
    assert result.p1_prematch == pytest.approx(devig_power(1.50, 2.80)[0], abs=1e-15)
    assert result.devig == "power"
    assert (
        abs(p_match(result.pa, result.pb, rules, match_start_state()) - result.p1_prematch) < 1e-9
    )
    with pytest.raises(ValueError, match="odds_p2"):
        calibrate_from_odds(1.50, 1.0, rules, 1.325, "power")


def test_config_sums_are_the_design_values():
    config = PhysicsConfig()
    assert config.serve_sum("ATP", "Hard") == 1.287
    assert config.serve_sum("atp", "clay") == 1.242
    assert config.serve_sum("ATP", "GRASS") == 1.325
    assert config.serve_sum("WTA", "Hard") == 1.137
    assert config.serve_sum("WTA", "Clay") == 1.111
    assert config.serve_sum("wta", "Grass") == 1.180


def test_unknown_tour_or_surface_is_refused():
    with pytest.raises(ValueError, match="surface"):
        PhysicsConfig().serve_sum("ATP", "Carpet")
    with pytest.raises(ValueError, match="tour"):
        PhysicsConfig().serve_sum("ITF", "Hard")


def test_shipped_engine_toml_matches_the_dataclass_defaults():
    assert load_physics_config() == PhysicsConfig()


def test_config_refuses_unknown_keys_bad_types_and_bad_values():
    with pytest.raises(ConfigError, match=r"physics\.sum_itf_hard"):
        parse_section({"sum_itf_hard": 1.2}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.sum_atp_hard"):
        parse_section({"sum_atp_hard": "high"}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.sum_wta_clay"):
        parse_section({"sum_wta_clay": 2.4}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.inplay_strength_atp"):
        parse_section({"inplay_strength_atp": 0.0}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.inplay_slope_wta"):
        parse_section({"inplay_slope_wta": -1.0}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.devig"):
        parse_section({"devig": "additive"}, "physics", PhysicsConfig)


def test_config_from_a_file(tmp_path):
    path = tmp_path / "engine.toml"
    path.write_text("[physics]\nsum_atp_hard = 1.30\ninplay_strength_wta = 350\n")
    config = load_physics_config(path)
    assert config.serve_sum("ATP", "Hard") == 1.30
    assert config.inplay("WTA").strength == 350.0
    assert config.inplay("ATP").slope == PhysicsConfig().inplay_slope_atp


def test_prior_serve_sum_adds_the_two_predictions_inside_the_band():
    assert prior_serve_sum(0.66, 0.62, (1.0, 1.5)) == pytest.approx(1.28)
    assert prior_serve_sum(0.80, 0.78, (1.0, 1.5)) == 1.5
    assert prior_serve_sum(0.45, 0.50, (1.0, 1.5)) == 1.0


@pytest.mark.parametrize(
    ("p_a", "p_b", "band", "field"),
    [
        (1.0, 0.6, (1.0, 1.5), "p_a_prior"),
        (0.6, math.nan, (1.0, 1.5), "p_b_prior"),
        (0.6, 0.6, (1.5, 1.0), "band"),
        (0.6, 0.6, (0.0, 1.5), "band"),
    ],
)
def test_prior_serve_sum_refuses_bad_input_naming_it(p_a, p_b, band, field):
    with pytest.raises(ValueError, match=field):
        prior_serve_sum(p_a, p_b, band)


def test_prematch_serve_sum_prefers_the_prior_and_falls_back_to_the_table():
    assert prematch_serve_sum(1.287, None) == 1.287
    assert prematch_serve_sum(1.287, 1.31) == 1.31
    with pytest.raises(ValueError, match="serve_sum"):
        prematch_serve_sum(1.287, 2.5)


def test_prior_source_needs_its_files_at_start(tmp_path, repo_root):
    model = str(repo_root / "models_onnx" / "prior.onnx")
    with pytest.raises(ConfigError, match=r"physics\.prior_model"):
        parse_section(
            {"serve_sum_source": "prior", "prior_model": str(tmp_path / "none.onnx")},
            "physics",
            PhysicsConfig,
        )
    with pytest.raises(ConfigError, match=r"physics\.prior_results_dir"):
        parse_section(
            {
                "serve_sum_source": "prior",
                "prior_model": model,
                "prior_results_dir": str(tmp_path / "none"),
            },
            "physics",
            PhysicsConfig,
        )
    config = parse_section(
        {"serve_sum_source": "prior", "prior_model": model, "prior_results_dir": str(tmp_path)},
        "physics",
        PhysicsConfig,
    )
    assert config.serve_sum_source == "prior"
    # the table needs neither file
    assert parse_section({"prior_model": "gone.onnx"}, "physics", PhysicsConfig).prior_model


def test_prior_band_lag_and_source_are_validated():
    with pytest.raises(ConfigError, match=r"physics\.serve_sum_source"):
        parse_section({"serve_sum_source": "learned"}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.prior_sum_max"):
        parse_section({"prior_sum_min": 1.3, "prior_sum_max": 1.2}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.prior_sum_min"):
        parse_section({"prior_sum_min": 0.0}, "physics", PhysicsConfig)
    with pytest.raises(ConfigError, match=r"physics\.prior_lag_days"):
        parse_section({"prior_lag_days": -1}, "physics", PhysicsConfig)
    assert PhysicsConfig().prior_sum_band == (1.0, 1.5)
