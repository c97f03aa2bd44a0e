import csv
import gzip

import numpy as np
import pytest

from engine.features.prior_history import (
    ELO_START,
    read_matches,
    rows_hash,
    serve_rows,
    tour_means,
)
from engine.features.prior_schema import PRIOR_DIM, PRIOR_FEATURES

COLUMNS = [
    "tourney_id", "surface", "tourney_date", "match_num", "winner_id", "loser_id", "best_of",
    "round", "w_1stWon", "w_2ndWon", "w_svpt", "l_1stWon", "l_2ndWon", "l_svpt",
]  # fmt: skip
IDX = {name: i for i, name in enumerate(PRIOR_FEATURES)}


def match(tid, date, rnd, winner, loser, surface="Hard", w=(40, 15, 80), lo=(30, 10, 75), num=1):
    return {
        "tourney_id": tid, "surface": surface, "tourney_date": date, "match_num": num,
        "winner_id": winner, "loser_id": loser, "best_of": 3, "round": rnd,
        "w_1stWon": w[0], "w_2ndWon": w[1], "w_svpt": w[2],
        "l_1stWon": lo[0], "l_2ndWon": lo[1], "l_svpt": lo[2],
    }  # fmt: skip


def write(directory, name, rows):
    with gzip.open(directory / name, "wt", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def results(tmp_path):
    # written out of order on purpose: the final (F) is listed before its semi-final (SF)
    write(
        tmp_path,
        "atp_matches_2020.csv.gz",
        [
            match("T1", 20200106, "F", "A", "C", num=3),
            match("T1", 20200106, "SF", "A", "B", num=2),
            match("T1", 20200106, "SF", "C", "D", w=("", "", ""), num=1),  # no serve stats
            match("T2", 20200113, "R32", "B", "A", surface="Clay", num=1),
        ],
    )
    write(tmp_path, "wta_matches_2020.csv.gz", [match("W1", 20200106, "R32", "X", "Y")])
    return tmp_path


def test_matches_come_in_finishing_order_and_bad_rows_are_skipped(results):
    matches = read_matches(results)
    assert [(m.tour, m.winner, m.loser) for m in matches] == [
        ("atp", "A", "B"),  # T1 SF before T1 F (same date, same tournament: by round)
        ("atp", "A", "C"),
        ("wta", "X", "Y"),
        ("atp", "B", "A"),  # a later week
    ]


def test_features_use_only_earlier_matches(results):
    matches = read_matches(results)
    means = tour_means(matches)
    rows = serve_rows(matches, means)
    assert rows.features.shape == (8, PRIOR_DIM)
    first = rows.features[0]  # A serving in A's first match: nothing known yet
    assert first[IDX["elo_diff"]] == 0.0 and first[IDX["server_experience"]] == 0.0
    assert first[IDX["server_serve"]] == pytest.approx(means["atp"])
    final = rows.features[2]  # A serving against C, after A beat B
    assert final[IDX["elo_diff"]] > 0.0
    assert final[IDX["server_serve"]] != pytest.approx(means["atp"])
    clay = rows.features[6]  # B serving against A on clay: no clay history for either
    assert clay[IDX["surface_elo_diff"]] == 0.0 and clay[IDX["surface_clay"]] == 1.0
    assert rows.won[0] == 55 and rows.played[0] == 80
    assert rows.features[4][IDX["wta"]] == 1.0 and final[IDX["wta"]] == 0.0


def test_adding_a_later_match_changes_no_earlier_row(results, tmp_path):
    before = serve_rows(read_matches(results), {"atp": 0.62, "wta": 0.56})
    write(results, "atp_matches_2021.csv.gz", [match("T9", 20210104, "R32", "C", "A")])
    after = serve_rows(read_matches(results), {"atp": 0.62, "wta": 0.56})
    assert np.array_equal(after.features[: len(before.won)], before.features)
    assert len(after.won) == len(before.won) + 2
    assert rows_hash(after) != rows_hash(before)


def test_years_filter_and_missing_directory(results, tmp_path):
    assert len(read_matches(results, years=range(2020, 2021))) == 4
    with pytest.raises(FileNotFoundError):
        read_matches(results, years=range(2030, 2031))
    with pytest.raises(FileNotFoundError):
        read_matches(tmp_path / "nowhere")


def test_real_results_one_year(shared_data):
    matches = read_matches(shared_data / "results", years=range(2015, 2016))
    rows = serve_rows(matches, tour_means(matches))
    assert len(matches) > 4000
    assert np.isfinite(rows.features).all()
    assert ((rows.won >= 0) & (rows.won <= rows.played) & (rows.played >= 20)).all()
    assert abs(float(rows.features[:, IDX["elo_diff"]].mean())) < 0.05  # both sides of each match
    assert ELO_START == 1500.0
