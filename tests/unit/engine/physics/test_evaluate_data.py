import csv

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import structlog

from engine.physics.eval_data import MATCH_COLUMNS, fold_long_scores, load_slams
from engine.physics.evaluate import drop_unpriceable_matches


@pytest.fixture(autouse=True)
def _fresh_structlog():
    """The CLI binds structlog to the (captured) stderr of the test that ran it; start clean."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def _match(match_id, **overrides):
    row = {
        "match_id": match_id,
        "tour": "ATP",
        "year": 2014,
        "surface": "Grass",
        "best_of": 5,
        "final_set_rule": "adv",
        "winner": 1,
        "retired": "False",
        "pbp_consistent": "True",
        "has_pinnacle": "True",
        "odds_ps_p1": 1.5,
        "odds_ps_p2": 2.8,
    }
    row.update(overrides)
    return row


def _write_matches(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(MATCH_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def _points(match_id, servers, winners, start_idx=0):
    n = len(servers)
    return {
        "match_id": [match_id] * n,
        "point_idx": list(range(start_idx, start_idx + n)),
        "tiebreak": [False] * n,
        "tb_target": [0] * n,
        "server": servers,
        "point_winner": winners,
        "p1_sets": [0] * n,
        "p2_sets": [0] * n,
        "p1_games": [0] * n,
        "p2_games": [0] * n,
        "p1_points": [0] * n,
        "p2_points": [0] * n,
        "after_match_end": [False] * n,
    }


def _write_points(path, parts):
    merged: dict[str, list[object]] = {key: [] for key in parts[0]}
    for part in parts:
        for key, values in part.items():
            merged[key].extend(values)
    pq.write_table(pa.table(merged), path)


@pytest.fixture
def tiny_slams(tmp_path):
    matches = tmp_path / "matches.csv"
    points = tmp_path / "points.parquet"
    _write_matches(
        matches,
        [
            _match("good"),
            _match("retired", retired="True"),
            _match("no-pinnacle", has_pinnacle="False"),
            _match("bad-odds", odds_ps_p1=1.0),
            _match("inconsistent", pbp_consistent="False"),
            _match("women", tour="WTA", best_of=3, winner=2),
        ],
    )
    good = _points("good", [1, 1, 1, 2, 2], [1, 2, 1, 2, 1])
    # Stored out of order on purpose: the loader sorts by point_idx within a match.
    women = _points("women", [2, 2, 1], [2, 2, 2])
    women = {key: list(reversed(values)) for key, values in women.items()}
    women["point_idx"] = [2, 1, 0]
    women["server"] = [1, 2, 2]
    _write_points(points, [women, good, _points("retired", [1], [1])])
    return matches, points


def test_loader_keeps_only_consistent_pinnacle_completed_matches(tiny_slams):
    dataset = load_slams(*tiny_slams)
    assert dataset.matches.match_id.tolist() == ["good", "women"]
    assert dataset.excluded["retired"] == 1
    assert dataset.excluded["no_pinnacle"] == 1
    assert dataset.excluded["pinnacle_odds_not_above_1"] == 1
    assert dataset.excluded["not_pbp_consistent"] == 1


def test_loader_counts_serve_points_before_each_point(tiny_slams):
    dataset = load_slams(*tiny_slams)
    pts = dataset.points
    good = pts.match_index == 0
    # servers 1,1,1,2,2 ; server won: yes, no, yes, yes, no
    assert pts.served_a[good].tolist() == [0, 1, 2, 3, 3]
    assert pts.won_a[good].tolist() == [0, 1, 1, 2, 2]
    assert pts.served_b[good].tolist() == [0, 0, 0, 0, 1]
    assert pts.won_b[good].tolist() == [0, 0, 0, 0, 1]
    women = pts.match_index == 1
    # after sorting: servers 2, 2, 1 and player 2 won every point
    assert pts.states[women, 6].tolist() == [2, 2, 1]
    assert pts.served_b[women].tolist() == [0, 1, 2]
    assert pts.won_b[women].tolist() == [0, 1, 2]
    assert pts.won_a[women].tolist() == [0, 0, 0]


def test_outcome_is_player_one_winning(tiny_slams):
    dataset = load_slams(*tiny_slams)
    y = dataset.outcome()
    assert y[dataset.points.match_index == 0].tolist() == [1.0] * 5
    assert y[dataset.points.match_index == 1].tolist() == [0.0] * 3


def test_missing_file_or_column_names_the_field(tmp_path, tiny_slams):
    matches, points = tiny_slams
    with pytest.raises(ValueError, match="points"):
        load_slams(matches, tmp_path / "nope.parquet")
    bad = tmp_path / "bad.csv"
    bad.write_text("match_id,tour\nx,ATP\n")
    with pytest.raises(ValueError, match="matches"):
        load_slams(bad, points)


def test_fold_long_scores_keeps_the_equivalent_state():
    p1 = np.array([8, 3, 4, 17, 6, 12, 2])
    p2 = np.array([7, 3, 5, 16, 6, 12, 1])
    tiebreak = np.array([False, False, False, True, True, True, True])
    target = np.array([0, 0, 0, 7, 7, 10, 7])
    f1, f2 = fold_long_scores(p1, p2, tiebreak, target)
    assert list(zip(f1.tolist(), f2.tolist(), strict=True)) == [
        (4, 3),
        (3, 3),
        (3, 4),
        (7, 6),
        (6, 6),
        (9, 9),
        (2, 1),
    ]


def test_unknown_surface_or_bad_server_drops_only_that_match(tmp_path):
    matches = tmp_path / "matches.csv"
    points = tmp_path / "points.parquet"
    _write_matches(
        matches,
        [_match("good"), _match("carpet", surface="Carpet"), _match("bad-server")],
    )
    _write_points(
        points,
        [
            _points("good", [1, 1], [1, 1]),
            _points("carpet", [1], [1]),
            _points("bad-server", [1, 0], [1, 2]),
        ],
    )
    dataset = load_slams(matches, points)
    assert dataset.matches.match_id.tolist() == ["good"]
    assert dataset.excluded["unknown_tour_surface_format_or_winner"] == 1
    assert dataset.excluded["server_or_point_winner_not_1_or_2"] == 1
    assert len(dataset.points) == 2


def test_a_match_with_an_illegal_score_is_excluded_not_fatal(tmp_path):
    matches = tmp_path / "matches.csv"
    points = tmp_path / "points.parquet"
    _write_matches(matches, [_match("good"), _match("glitch")])
    glitch = _points("glitch", [1, 1], [1, 1])
    glitch["p1_games"] = [0, 7]  # 7-0 games cannot be an unfinished set
    _write_points(points, [_points("good", [1, 2], [1, 1]), glitch])
    dataset = drop_unpriceable_matches(load_slams(matches, points))
    assert dataset.matches.match_id.tolist() == ["good"]
    assert dataset.excluded["illegal_state"] == 1
    assert len(dataset.points) == 2
