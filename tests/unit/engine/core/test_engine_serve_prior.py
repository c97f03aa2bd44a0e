"""`[physics] serve_sum_source = "prior"`: the engine's once-per-match calibration asks the learned
prior (shipped models_onnx/prior.onnx, ONNX Runtime) for p_a + p_b by the runners' names, and falls
back to the tour/surface table with a counted reason. Real sample match (Djokovic v Haas,
Wimbledon 2013) and the real tour-level results."""

import csv
import gzip

import pytest

from engine.clock import SimulatedClock
from engine.core import Engine, EngineParts
from engine.core.match import MatchContext
from engine.physics.calibration import PhysicsConfig

GRASS = MatchContext("atp", "grass")


def _run(events, physics: PhysicsConfig, feed) -> Engine:
    engine = Engine(
        EngineParts(physics=physics), SimulatedClock(events[0][0]), context=lambda _id: GRASS
    )
    engine.keep_records = True
    feed(engine, events)
    return engine


def _serve_sum(engine: Engine, market_id: str) -> float:
    pricing = engine.markets[market_id].pricing
    assert pricing is not None
    return pricing.tracker.prematch_pa + pricing.tracker.prematch_pb


def test_the_prior_supplies_the_serve_sum_from_earlier_results(
    match_events, repo_root, shared_data, feed
):
    meta, events = match_events
    physics = PhysicsConfig(
        serve_sum_source="prior",
        prior_model=str(repo_root / "models_onnx" / "prior.onnx"),
        prior_results_dir=str(shared_data / "results"),
    )

    engine = _run(events, physics, feed)

    prior = engine.serve_prior
    assert prior is not None
    assert prior.used >= 1 and not prior.fallbacks
    assert prior.store.date == 20130616  # 15 days before 2013-07-01: Wimbledon 2013 not folded
    djokovic, haas = meta["sackmann_ids"]
    expected = prior.sum_for_ids(
        djokovic, haas, tour="atp", surface="grass", best_of=5, date=20130616
    )
    assert _serve_sum(engine, meta["market_id"]) == pytest.approx(expected.serve_sum)
    assert expected.serve_sum != pytest.approx(physics.sum_atp_grass, abs=1e-3)
    assert len(engine.records) == meta["n_points"] - 1  # the match is still priced point by point


def test_unknown_players_fall_back_to_the_table_with_a_counted_reason(
    match_events, repo_root, tmp_path, feed
):
    meta, events = match_events
    with gzip.open(tmp_path / "atp_matches_2013.csv.gz", "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["tourney_id", "surface", "tourney_date", "match_num", "winner_id", "winner_name",
             "loser_id", "loser_name", "best_of", "round", "w_1stWon", "w_2ndWon", "w_svpt",
             "l_1stWon", "l_2ndWon", "l_svpt"]
        )  # fmt: skip
        writer.writerow(["T", "Hard", 20130107, 1, "1", "Some One", "2", "Someone Else", 3, "F",
                         40, 15, 80, 30, 10, 75])  # fmt: skip
    physics = PhysicsConfig(
        serve_sum_source="prior",
        prior_model=str(repo_root / "models_onnx" / "prior.onnx"),
        prior_results_dir=str(tmp_path),
    )

    engine = _run(events, physics, feed)

    prior = engine.serve_prior
    assert prior is not None
    assert prior.used == 0 and prior.fallbacks["unknown_name"] >= 1
    assert _serve_sum(engine, meta["market_id"]) == pytest.approx(physics.sum_atp_grass)


def test_the_table_source_loads_no_prior(match_events, feed):
    meta, events = match_events

    engine = _run(events, PhysicsConfig(), feed)

    assert engine.serve_prior is None
    assert _serve_sum(engine, meta["market_id"]) == pytest.approx(PhysicsConfig().sum_atp_grass)
