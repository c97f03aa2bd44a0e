"""Legal and illegal states, the CLI score syntax, and every state of the real slam data."""

import itertools

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from engine.physics.pricing import p_match, p_match_batch
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState, parse_score, validate

BO3 = MatchRules(best_of=3, final_set="tb7@6")
BO5_ADV = MatchRules(best_of=5, final_set="adv")
BO5_12 = MatchRules(best_of=5, final_set="tb7@12")
BO3_NOAD = MatchRules(best_of=3, final_set="tb10@6", no_ad=True)


@pytest.mark.parametrize(
    ("state", "rules", "field"),
    [
        (MatchState((0, 0), (7, 5), (0, 0), 1), BO3, "games"),
        (MatchState((0, 0), (6, 4), (0, 0), 1), BO3, "games"),
        (MatchState((0, 0), (7, 6), (0, 0), 1), BO3, "games"),
        (MatchState((1, 1), (7, 7), (0, 0), 1), BO3, "games"),
        (MatchState((2, 2), (13, 12), (0, 0), 1), BO5_12, "games"),
        (MatchState((2, 2), (9, 7), (0, 0), 1), BO5_ADV, "games"),
        (MatchState((1, 1), (7, 7), (0, 0), 1), BO5_ADV, "games"),  # not the deciding set
        (MatchState((0, 0), (1, 1), (5, 2), 1), BO3, "points"),
        (MatchState((0, 0), (1, 1), (4, 2), 1), BO3, "points"),
        (MatchState((0, 0), (1, 1), (4, 3), 1), BO3_NOAD, "points"),
        (MatchState((0, 0), (6, 6), (7, 5), 1), BO3, "points"),
        (MatchState((0, 0), (6, 6), (9, 7), 2), BO3, "points"),
        (MatchState((1, 1), (6, 6), (10, 8), 2), BO3_NOAD, "points"),
        (MatchState((2, 0), (0, 0), (0, 0), 1), BO3, "sets"),
        (MatchState((3, 1), (0, 0), (0, 0), 1), BO5_ADV, "sets"),
        (MatchState((4, 0), (0, 0), (0, 0), 1), BO5_ADV, "sets"),
        (MatchState((-1, 0), (0, 0), (0, 0), 1), BO3, "sets"),
        (MatchState((0, 0), (0, -2), (0, 0), 1), BO3, "games"),
        (MatchState((0, 0), (0, 0), (0, -1), 1), BO3, "points"),
        (MatchState((0, 0), (0, 0), (0, 0), 3), BO3, "server"),
        (MatchState((0, 0), (0, 0), (0, 0), 0), BO3, "server"),
    ],
)
def test_impossible_states_are_refused_naming_the_field(state, rules, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        validate(state, rules)


@pytest.mark.parametrize(
    ("state", "rules"),
    [
        (MatchState((0, 0), (6, 5), (0, 0), 1), BO3),
        (MatchState((0, 0), (6, 6), (12, 11), 2), BO3),
        (MatchState((2, 2), (25, 24), (9, 8), 1), BO5_ADV),
        (MatchState((2, 2), (12, 12), (6, 6), 2), BO5_12),
        (MatchState((2, 2), (12, 11), (3, 3), 2), BO5_12),
        (MatchState((1, 1), (6, 6), (9, 8), 2), BO3_NOAD),
        (MatchState((1, 1), (5, 5), (3, 3), 1), BO3_NOAD),
    ],
)
def test_legal_states_are_accepted(state, rules):
    assert validate(state, rules) is state


def test_is_tiebreak_depends_on_the_set_and_rules():
    assert MatchState((0, 0), (6, 6)).is_tiebreak(BO5_12)
    assert not MatchState((2, 2), (6, 6)).is_tiebreak(BO5_12)
    assert MatchState((2, 2), (12, 12)).is_tiebreak(BO5_12)
    assert not MatchState((2, 2), (6, 6)).is_tiebreak(BO5_ADV)


@pytest.mark.parametrize(
    ("text", "server", "rules", "expected"),
    [
        ("1-0 4-5 30-40", 1, BO3, MatchState((1, 0), (4, 5), (2, 3), 1)),
        ("1-0 4-5", 2, BO3, MatchState((1, 0), (4, 5), (0, 0), 2)),
        ("0-1", 1, BO3, MatchState((0, 1), (0, 0), (0, 0), 1)),
        ("", 2, BO3, MatchState((0, 0), (0, 0), (0, 0), 2)),
        ("0-0 2-2 40-40", 1, BO3, MatchState((0, 0), (2, 2), (3, 3), 1)),
        ("0-0 2-2 AD-40", 1, BO3, MatchState((0, 0), (2, 2), (4, 3), 1)),
        ("0-0 2-2 40-ad", 1, BO3, MatchState((0, 0), (2, 2), (3, 4), 1)),
        ("  1-1   6-6  5-6 ", 2, BO3, MatchState((1, 1), (6, 6), (5, 6), 2)),
        ("2-2 12-12 10-9", 1, BO5_12, MatchState((2, 2), (12, 12), (10, 9), 1)),
        ("2-2 6-6 15-0", 1, BO5_12, MatchState((2, 2), (6, 6), (1, 0), 1)),
    ],
)
def test_parse_score(text, server, rules, expected):
    assert parse_score(text, server, rules) == expected


@pytest.mark.parametrize(
    ("text", "rules", "field"),
    [
        ("1-0 4-5 30-45", BO3, "points"),
        ("1-0 4-5 AD-AD", BO3, "points"),
        ("1-0 4-5 AD-15", BO3, "points"),
        ("0-0 2-2 AD-40", BO3_NOAD, "points"),
        ("0-0 6-6 40-30", BO3, "points"),
        ("1-0 7-5", BO3, "games"),
        ("1-0 x-5", BO3, "games"),
        ("2-0", BO3, "sets"),
        ("1:0", BO3, "sets"),
        ("1-0 4-5 30-40 0-0", BO3, "score"),
    ],
)
def test_parse_score_errors_name_the_field(text, rules, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        parse_score(text, 1, rules)


def _slam_states(shared_data):
    matches = pacsv.read_csv(shared_data / "slams" / "matches.csv").to_pydict()
    rules_by_match = {
        match_id: MatchRules(best_of=int(best_of), final_set=rule)
        for match_id, best_of, rule in zip(
            matches["match_id"], matches["best_of"], matches["final_set_rule"], strict=True
        )
    }
    columns = ["p1_sets", "p2_sets", "p1_games", "p2_games", "p1_points", "p2_points", "server"]
    table = pq.read_table(
        shared_data / "slams" / "points.parquet",
        columns=["match_id", "after_match_end", *columns],
    )
    keep = ~table["after_match_end"].to_numpy(zero_copy_only=False)
    rows = np.column_stack([table[c].to_numpy().astype(np.int64) for c in columns])[keep]
    match_ids = np.asarray(table["match_id"].to_pylist(), dtype=object)[keep]
    return rules_by_match, match_ids, rows


def test_every_state_before_a_point_in_the_slam_data_is_legal(shared_data):
    rules_by_match, match_ids, rows = _slam_states(shared_data)
    assert len(rows) > 600_000

    refused = []
    for match_id, row in zip(match_ids, rows.tolist(), strict=True):
        state = MatchState((row[0], row[1]), (row[2], row[3]), (row[4], row[5]), row[6])
        try:
            validate(state, rules_by_match[match_id])
        except ValueError as exc:
            refused.append((match_id, row, str(exc)))

    assert refused == []


def test_every_slam_state_prices_in_the_batch(shared_data):
    rules_by_match, match_ids, rows = _slam_states(shared_data)
    formats = np.array([f"{r.best_of}/{r.final_set}" for r in map(rules_by_match.get, match_ids)])

    for fmt in np.unique(formats):
        best_of, final_set = fmt.split("/")
        chosen = rows[formats == fmt]
        values = p_match_batch(0.64, 0.62, MatchRules(int(best_of), final_set), chosen)
        assert np.all((values >= 0.0) & (values <= 1.0))
        assert np.all(np.isfinite(values))


@pytest.mark.parametrize(
    "rules",
    [BO3, BO5_ADV, BO5_12, BO3_NOAD, MatchRules(best_of=5, final_set="tb10@6")],
    ids=str,
)
def test_the_chain_and_validate_agree_on_which_states_are_legal(rules):
    games = [0, 5, 6, 7, 12, 13]
    points = [0, 3, 4, 5, 7, 8, 10]
    disagreements = []
    for s1, s2, g1, g2, i, j, server in itertools.product(
        range(4), range(4), games, games, points, points, (1, 3)
    ):
        state = MatchState((s1, s2), (g1, g2), (i, j), server)
        try:
            validate(state, rules)
            legal = True
        except ValueError:
            legal = False
        try:
            p_match(0.6, 0.6, rules, state)
            priced = True
        except ValueError:
            priced = False
        if legal != priced:
            disagreements.append(state)

    assert disagreements == []
