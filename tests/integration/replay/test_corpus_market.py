"""The simulated market: exact replay through the engine's market cache, and stylized facts
within a stated tolerance of the real in-play tennis file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from adapters.betfair.historical import replay_market_updates
from adapters.betfair.processor import StreamProcessor
from replay.corpus.builder import build_match
from replay.corpus.facts import stylized_facts
from replay.corpus.params import CorpusParams
from replay.corpus.stream import write_stream_file

REAL_FILE = "betfair/historical/tennis_wimbledon2018_1.145329255.bz2"

# Tolerances of the simulated facts (mean over comparable matches) against the real file.
# ("rel", r): |sim - real| <= r * real;  ("abs", a): |sim - real| <= a;  ("factor", f): within x f.
TOLERANCES = {
    "msgs_per_s": ("rel", 0.2),
    "dt_median_s": ("rel", 0.25),
    "levels_per_msg": ("rel", 0.35),
    "trade_msg_frac": ("abs", 0.08),
    "fav_spread_1tick_frac": ("abs", 0.08),
    "fav_spread_mean_ticks": ("rel", 0.25),
    "dog_spread_median_ticks": ("abs", 1.0),
    "dog_spread_mean_ticks": ("rel", 0.35),
    "fav_spread_prob_median": ("rel", 0.35),
    "fav_back_payout_median": ("factor", 3.0),
    "fav_lay_payout_median": ("factor", 3.0),
    "dog_back_payout_median": ("factor", 3.0),
    "dog_lay_payout_median": ("factor", 3.0),
    "fav_back_fill10": ("abs", 0.12),
    "fav_lay_fill10": ("abs", 0.12),
    "dog_back_fill10": ("abs", 0.15),
    "dog_lay_fill10": ("abs", 0.15),
    "vol10_prob_std": ("factor", 2.0),
    "vol10_zero_frac": ("abs", 0.12),
    "vol60_prob_std": ("factor", 2.0),
    "best_changes_per_min": ("factor", 2.5),
    "overround_back_median": ("abs", 0.01),
}


def within(kind: str, bound: float, sim: float, real: float) -> bool:
    if kind == "rel":
        return abs(sim - real) <= bound * abs(real)
    if kind == "abs":
        return abs(sim - real) <= bound
    return real / bound <= sim <= real * bound


def test_replaying_a_simulated_file_reproduces_the_intended_book(slam_data, tmp_path: Path):
    # Arrange: a match with an MTO and spoofs in it exercises every message kind
    info = slam_data.comparable_to_real_file()[0]
    build = build_match(info, slam_data.points[info.match_id], slam_data.model, CorpusParams(), 3)
    path = tmp_path / f"{build.market.market_id}.gz"
    write_stream_file(path, build.market.lines)
    processor = StreamProcessor()

    # Act: the cache's books are live objects, so read them as each update arrives
    seen = []
    for update in replay_market_updates(path, processor):
        view = []
        for sel in build.market.selection_ids:
            runner = update.book.runner(sel)
            assert runner is not None
            back = runner.best_back() or (0.0, 0.0)
            lay = runner.best_lay() or (0.0, 0.0)
            view.append((back[0], back[1], lay[0], lay[1]))
        seen.append((update.publish_time, tuple(view), update.malformed))
        final = update.book

    # Assert: one update per line, and at every update both runners' best back/lay (price and
    # size) equal what the simulator intended
    assert len(seen) == len(build.market.trace)
    mismatches = [
        (i, got, want)
        for i, (got, want) in enumerate(zip(seen, build.market.trace, strict=True))
        if got[0] != want[0] or got[1] != want[1] or got[2]
    ]
    assert mismatches == []
    assert final.closed
    winner_sel = build.market.selection_ids[info.winner - 1]
    winner = final.runner(winner_sel)
    assert winner is not None and winner.status == "WINNER"


def test_simulated_stylized_facts_are_within_tolerance_of_the_real_file(
    slam_data, shared_data: Path, tmp_path: Path
):
    # Arrange
    real = stylized_facts(shared_data / REAL_FILE).as_dict()
    sims: list[dict[str, float]] = []
    for info in slam_data.comparable_to_real_file():
        build = build_match(
            info, slam_data.points[info.match_id], slam_data.model, CorpusParams(), 0
        )
        if build.static["synthetic_events"]:
            continue  # the real file had no stoppage: compare like with like
        if len(sims) == 3:
            break
        path = tmp_path / f"{info.match_id}.gz"
        write_stream_file(path, build.market.lines)
        sims.append(stylized_facts(path).as_dict())

    assert len(sims) == 3
    # Act
    mean = {name: sum(s[name] for s in sims) / len(sims) for name in TOLERANCES}

    # Assert
    failures = {
        name: (round(mean[name], 5), round(real[name], 5))
        for name, (kind, bound) in TOLERANCES.items()
        if math.isnan(mean[name]) or not within(kind, bound, mean[name], real[name])
    }
    assert failures == {}


@pytest.mark.parametrize("kind", ["rel", "abs", "factor"])
def test_tolerance_check_rejects_a_far_value(kind):
    assert not within(kind, 0.5, 100.0, 1.0)
