"""`courtside physics eval --prior --results`: the slam scores with prior-supplied serve sums next
to the table's, on the real slams and results (../shared/data) with the shipped prior."""

import json

import pytest
import structlog

from engine.cli import main
from engine.features.prior_history import read_matches, rows_hash, serve_rows, tour_means
from engine.features.prior_store import load_prior_store
from engine.models.metadata import load_metadata
from engine.physics.calibration import PhysicsConfig


@pytest.fixture(autouse=True)
def _fresh_structlog():
    """The CLI binds structlog to the (captured) stderr of the test that ran it; start clean."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def _eval(shared_data, repo_root, *extra):
    slams = shared_data / "slams"
    return main(
        ["physics", "eval", "--matches", str(slams / "matches.csv"),
         "--points", str(slams / "points.parquet"), "--years", "2015:2015", *extra]
    )  # fmt: skip


def test_eval_scores_table_and_prior_sums_on_the_same_matches(shared_data, repo_root, capsys):
    status = _eval(
        shared_data,
        repo_root,
        "--prior",
        str(repo_root / "models_onnx" / "prior.onnx"),
        "--results",
        str(shared_data / "results"),
    )

    assert status == 0
    payload = json.loads(capsys.readouterr().out)
    prior = payload["prior_sums"]
    assert prior["train_until"] == 2021
    n = payload["overall"]["n_matches"]
    assert prior["overall"]["n_matches"] == n > 500
    assert prior["matches_with_prior"] >= 0.95 * n
    assert set(prior["fallbacks"]) <= {"no_history", "no_player_ids"}
    low, high = PhysicsConfig().prior_sum_band
    for tour, sums in prior["mean_sum"].items():
        assert low < sums["prior"] < high
        assert sums["prior_sd"] > 0.02  # the prior tells matches apart; the table cannot
        # the prior's sums are closer to the serve shares the players then realised
        assert sums["rmse_vs_realised_prior"] < sums["rmse_vs_realised_table"], tour
    rows = {(r["tour"], r["sums"]): r for r in payload["comparison"]}
    for tour in ("ATP", "WTA", "overall"):
        assert rows[(tour, "table")]["log_loss"] == payload[tour]["log_loss"]
        assert rows[(tour, "prior")]["log_loss"] == prior[tour]["log_loss"]
        # same line at 0-0, only the volatility moves: the two stay close
        assert abs(rows[(tour, "prior")]["log_loss"] - payload[tour]["log_loss"]) < 0.01


def test_prior_without_results_is_refused(shared_data, repo_root, capsys):
    status = _eval(shared_data, repo_root, "--prior", str(repo_root / "models_onnx" / "prior.onnx"))

    assert status == 2
    assert "results" in capsys.readouterr().err


def test_the_store_for_a_slam_folds_nothing_from_that_slam_or_later(shared_data):
    results = shared_data / "results"
    us_open_2015 = 20150831

    store = load_prior_store(results, tour_serve_until=2021, until=us_open_2015)

    before = [m for m in read_matches(results) if m.date < us_open_2015]
    assert store.history.last_date is not None and store.history.last_date < us_open_2015
    assert store.history.folded == sum(
        0 <= m.w_won <= m.w_svpt and 0 <= m.l_won <= m.l_svpt for m in before
    )


def test_the_fold_still_builds_the_rows_the_shipped_prior_was_trained_on(shared_data, repo_root):
    # The store and training share PlayerHistory; the shipped metadata's data hash pins the rows.
    matches = read_matches(shared_data / "results")
    shipped = load_metadata(repo_root / "models_onnx" / "prior.onnx")

    rows = serve_rows(matches, tour_means(matches, 2021))

    assert rows_hash(rows) == shipped.data_hash
