import json
import math
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import structlog

from engine.cli import main
from engine.physics.calibration import PhysicsConfig
from engine.physics.devig import devig_power
from engine.physics.eval_data import load_slams
from engine.physics.evaluate import evaluation_report, match_rules, predict
from engine.physics.inplay import ServeStrengthTracker, recalibrate
from engine.physics.pricing import p_match
from engine.physics.state import MatchState


@pytest.fixture(autouse=True)
def _fresh_structlog():
    """The CLI binds structlog to the (captured) stderr of the test that ran it; start clean."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


N_PER_TOUR = 8


@pytest.fixture(scope="module")
def small_slams(shared_data, tmp_path_factory):
    """A derived subset of ../shared/data/slams: the first usable matches of each tour (2014)."""
    matches = pacsv.read_csv(shared_data / "slams" / "matches.csv")
    usable = pc.and_(
        pc.and_(matches["pbp_consistent"], matches["has_pinnacle"]),
        pc.and_(pc.invert(matches["retired"]), pc.equal(matches["year"], 2014)),
    )
    matches = matches.filter(usable)
    ids = []
    for tour in ("ATP", "WTA"):
        ids += matches.filter(pc.equal(matches["tour"], tour))["match_id"].to_pylist()[:N_PER_TOUR]
    subset = matches.filter(pc.is_in(matches["match_id"], value_set=pa.array(ids)))
    points = pq.read_table(shared_data / "slams" / "points.parquet")
    points = points.filter(pc.is_in(points["match_id"], value_set=pa.array(ids)))
    folder = tmp_path_factory.mktemp("slams_small")
    pacsv.write_csv(subset, folder / "matches.csv")
    pq.write_table(points, folder / "points.parquet")
    return folder / "matches.csv", folder / "points.parquet"


def _first_rows(dataset):
    idx = dataset.points.match_index
    first = np.ones(idx.size, dtype=bool)
    first[1:] = idx[1:] != idx[:-1]
    return np.flatnonzero(first)


def test_fixed_model_starts_every_match_at_the_devigged_line(small_slams):
    dataset = load_slams(*small_slams)
    p = predict(dataset, "fixed", PhysicsConfig())
    first = _first_rows(dataset)
    m = dataset.matches
    expected = [devig_power(a, b)[0] for a, b in zip(m.odds_p1, m.odds_p2, strict=True)]
    np.testing.assert_allclose(p[first], expected, atol=1e-9, rtol=0)


def test_inplay_model_starts_at_the_recalibrated_line(small_slams):
    dataset = load_slams(*small_slams)
    config = PhysicsConfig()
    p = predict(dataset, "inplay", config)
    first = _first_rows(dataset)
    m = dataset.matches
    for row, a, b, tour in zip(first, m.odds_p1, m.odds_p2, m.tour, strict=True):
        expected = recalibrate(devig_power(a, b)[0], config.inplay(tour).slope)
        assert p[row] == pytest.approx(expected, abs=1e-9)


def test_infinite_strength_shrinkage_is_the_fixed_model(small_slams):
    dataset = load_slams(*small_slams)
    config = replace(PhysicsConfig(), inplay_strength_atp=math.inf, inplay_strength_wta=math.inf)
    np.testing.assert_array_equal(
        predict(dataset, "shrink", config), predict(dataset, "fixed", config)
    )


def test_vectorised_eval_equals_the_per_point_tracker_api(small_slams):
    dataset = load_slams(*small_slams)
    config = PhysicsConfig()
    p_vec = predict(dataset, "inplay", config)
    match = 0
    rows = np.flatnonzero(dataset.points.match_index == match)
    rules = match_rules(dataset.matches)[match]
    fixed = predict(dataset, "fixed", config)
    # Recover the pre-match (pa, pb) through the public calibration path.
    from engine.physics.calibration import calibrate_from_odds

    m = dataset.matches
    cal = calibrate_from_odds(
        float(m.odds_p1[match]),
        float(m.odds_p2[match]),
        rules,
        config.serve_sum(m.tour[match], m.surface[match]),
    )
    assert fixed[rows[0]] == pytest.approx(cal.p1_prematch, abs=1e-9)
    params = config.inplay(m.tour[match])
    tracker = ServeStrengthTracker(cal.pa, cal.pb, params.strength)
    for r in rows:
        s = [int(v) for v in dataset.points.states[r]]
        state = MatchState(sets=(s[0], s[1]), games=(s[2], s[3]), points=(s[4], s[5]), server=s[6])
        pa_now, pb_now = tracker.current()
        expected = recalibrate(p_match(pa_now, pb_now, rules, state), params.slope)
        assert p_vec[r] == pytest.approx(expected, abs=1e-8)
        tracker.record_point(s[6], bool(dataset.points.server_won[r]))


def test_report_has_both_tours_and_overall(small_slams):
    dataset = load_slams(*small_slams)
    report = evaluation_report(dataset, predict(dataset, "inplay", PhysicsConfig()))
    assert report["ATP"]["n_matches"] == N_PER_TOUR
    assert report["WTA"]["n_matches"] == N_PER_TOUR
    assert report["overall"]["n_matches"] == 2 * N_PER_TOUR
    assert report["overall"]["n_states"] == len(dataset.points)
    assert report["ATP"]["n_states"] + report["WTA"]["n_states"] == len(dataset.points)


def test_unknown_model_is_refused(small_slams):
    dataset = load_slams(*small_slams)
    with pytest.raises(ValueError, match="model"):
        predict(dataset, "oracle", PhysicsConfig())


def _eval(capsys, small_slams, *extra):
    matches, points = small_slams
    status = main(["physics", "eval", "--matches", str(matches), "--points", str(points), *extra])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_eval_cli_prints_the_contract_json_and_writes_a_plot(capsys, small_slams, tmp_path):
    plot = tmp_path / "calib.png"
    status, out, _ = _eval(capsys, small_slams, "--plot", str(plot))
    assert status == 0
    payload = json.loads(out)
    assert payload["model"] == "inplay"
    for group in ("ATP", "WTA", "overall"):
        scores = payload[group]
        for key in (
            "n_matches",
            "n_states",
            "log_loss",
            "brier",
            "accuracy",
            "calibration_slope",
        ):
            assert key in scores
        table = scores["reliability"]
        assert len(table["bin_edges"]) == 11
        assert len(table["count"]) == len(table["mean_predicted"]) == 10
        assert sum(table["count"]) == scores["n_states"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_cli_fixed_model_and_filters(capsys, small_slams):
    status, out, _ = _eval(capsys, small_slams, "--model", "fixed", "--tour", "WTA")
    payload = json.loads(out)
    assert status == 0
    assert payload["model"] == "fixed"
    assert payload["ATP"]["n_matches"] == 0
    assert payload["ATP"]["log_loss"] is None
    assert payload["WTA"]["n_matches"] == N_PER_TOUR


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (("--years", "2015-2014"), "years"),
        (("--years", "2015:2014"), "years"),
        (("--years", "2019:2020"), "matches"),
    ],
)
def test_eval_cli_bad_values_exit_2(capsys, small_slams, extra, field):
    status, out, err = _eval(capsys, small_slams, *extra)
    assert status == 2
    assert out == ""
    assert field in err


def test_eval_cli_missing_file_exits_2(capsys, tmp_path):
    status = main(
        [
            "physics",
            "eval",
            "--matches",
            str(tmp_path / "none.csv"),
            "--points",
            str(tmp_path / "none.parquet"),
        ]
    )
    assert status == 2
    assert "matches" in capsys.readouterr().err


def test_eval_cli_unknown_model_exits_2(capsys, small_slams):
    status, _, err = _eval(capsys, small_slams, "--model", "oracle")
    assert status == 2
    assert "oracle" in err


def test_eval_cli_plot_into_a_missing_folder_exits_2(capsys, small_slams, tmp_path):
    status, out, err = _eval(capsys, small_slams, "--plot", str(tmp_path / "no" / "calib.png"))
    assert status == 2
    assert out == ""
    assert "plot" in err


def test_strength_curve_scores_each_k_and_refuses_bad_splits(small_slams):
    from engine.physics.inplay_fit import best_on_fit, strength_curve

    dataset = load_slams(*small_slams)
    curve = strength_curve(
        dataset,
        "ATP",
        (100.0, math.inf),
        fit_years=(2014, 2014),
        test_years=None,
        config=PhysicsConfig(),
    )
    assert [point.strength for point in curve] == [100.0, math.inf]
    assert all(point.fit_log_loss > 0 for point in curve)
    assert math.isnan(curve[0].test_log_loss)
    assert best_on_fit(curve) in curve
    with pytest.raises(ValueError, match="years"):
        strength_curve(
            dataset,
            "ATP",
            (100.0,),
            fit_years=(2011, 2012),
            test_years=None,
            config=PhysicsConfig(),
        )
    with pytest.raises(ValueError, match="strengths"):
        best_on_fit([])
