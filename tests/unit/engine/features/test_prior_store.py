"""The prior's player store: folds results up to a date with the training fold, names -> ids."""

import csv
import gzip

import pytest

from engine.features.prior_history import PlayerHistory, iter_serve_rows, read_matches, tour_means
from engine.features.prior_schema import PRIOR_FEATURES
from engine.features.prior_store import PriorStore, load_prior_store, normalise_player_name

COLUMNS = [
    "tourney_id", "surface", "tourney_date", "match_num", "winner_id", "winner_name", "loser_id",
    "loser_name", "best_of", "round", "w_1stWon", "w_2ndWon", "w_svpt", "l_1stWon", "l_2ndWon",
    "l_svpt",
]  # fmt: skip
IDX = {name: i for i, name in enumerate(PRIOR_FEATURES)}
NAMES = {"A": "Jo-Wilfried Tsonga", "B": "Gaël Monfils", "C": "Ana Ivanovic", "D": "Ana Ivanovic"}


def row(tid, date, rnd, winner, loser, surface="Hard", w=(40, 15, 80), lo=(30, 10, 75), num=1):
    return {
        "tourney_id": tid, "surface": surface, "tourney_date": date, "match_num": num,
        "winner_id": winner, "winner_name": NAMES.get(winner, winner), "loser_id": loser,
        "loser_name": NAMES.get(loser, loser), "best_of": 3, "round": rnd,
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
    write(
        tmp_path,
        "atp_matches_2020.csv.gz",
        [
            row("T1", 20200106, "SF", "A", "B", num=1),
            row("T1", 20200106, "F", "A", "E", w=(50, 20, 90), num=2),
            row("T2", 20200113, "R32", "B", "A", surface="Clay", num=1),
            row("T3", 20200120, "R32", "E", "B", surface="Grass", num=1),
        ],
    )
    # two different WTA players share one name: the lookup must refuse it
    write(
        tmp_path,
        "wta_matches_2020.csv.gz",
        [row("W1", 20200106, "R32", "C", "X"), row("W2", 20200113, "R32", "D", "Y")],
    )
    return tmp_path


def test_names_normalise_accents_case_and_punctuation():
    assert normalise_player_name("Jo-Wilfried  Tsonga") == "jo wilfried tsonga"
    assert normalise_player_name("GAËL MONFILS ") == "gael monfils"
    assert normalise_player_name("") == ""


def test_store_features_equal_the_training_rows_of_the_same_match(results):
    matches = read_matches(results)
    means = tour_means(matches)
    training = [features for features, *_ in iter_serve_rows(matches, means)]
    store = PriorStore(matches, means)

    # T2 (2020-01-13) is the first match on its date: the store folded up to that date must give
    # the same features as the training fold read just before the match.
    got_winner = store.features("B", "A", tour="atp", surface="clay", best_of=3, date=20200113)
    got_loser = store.features("A", "B", tour="atp", surface="clay", best_of=3, date=20200113)

    t2 = next(i for i, m in enumerate(matches) if m.surface == "clay")
    assert got_winner == training[2 * t2]  # every match here yields a row per side
    assert got_loser == training[2 * t2 + 1]


def test_only_tournaments_started_before_the_date_are_folded(results):
    store = PriorStore(read_matches(results), {"atp": 0.6, "wta": 0.55})

    folded = store.advance_to(20200113)

    assert folded == 3  # T1's two matches and W1; T2 starts on the date itself
    assert store.knows("A") and not store.knows("Y")
    before = store.features("A", "B", tour="atp", surface="clay", best_of=3, date=20200113)
    store.advance_to(20200114)
    after = store.features("A", "B", tour="atp", surface="clay", best_of=3, date=20200114)
    assert after[IDX["surface_elo_diff"]] < before[IDX["surface_elo_diff"]]  # A lost T2 on clay


def test_going_back_in_time_is_refused(results):
    store = PriorStore(read_matches(results), {"atp": 0.6, "wta": 0.55})
    store.advance_to(20200120)

    with pytest.raises(ValueError, match="date"):
        store.features("A", "B", tour="atp", surface="hard", best_of=3, date=20200101)


def test_bad_tour_or_surface_names_the_field(results):
    store = PriorStore(read_matches(results), {"atp": 0.6, "wta": 0.55})

    with pytest.raises(ValueError, match="tour"):
        store.features("A", "B", tour="itf", surface="hard", best_of=3, date=20200101)
    with pytest.raises(ValueError, match="surface"):
        store.features("A", "B", tour="atp", surface="sand", best_of=3, date=20200101)


def test_player_ids_by_name_exact_after_normalising_else_none(results):
    store = PriorStore(read_matches(results), {"atp": 0.6, "wta": 0.55})

    assert store.player_id("jo wilfried tsonga", "ATP") == "A"
    assert store.player_id("Gael Monfils", "atp") == "B"
    assert store.player_id("Tsonga", "atp") is None  # surname alone: not an exact match
    assert store.player_id("Jo-Wilfried Tsonga", "wta") is None  # other tour
    assert store.player_id("Ana Ivanovic", "wta") is None  # two ids share the name
    assert store.name_is_ambiguous("Ana Ivanovic", "wta")


def test_unknown_players_read_as_newcomers_and_are_not_stored():
    history = PlayerHistory({"atp": 0.6})

    features = history.features("new1", "new2", tour="atp", surface="hard", best_of=5)

    assert features[IDX["elo_diff"]] == 0.0
    assert features[IDX["server_serve"]] == pytest.approx(0.6)
    assert features[IDX["best_of_5"]] == 1.0
    assert not history.knows("new1")


def test_load_prior_store_up_to_a_date_with_given_tour_means(results, tmp_path):
    store = load_prior_store(results, tour_serve={"atp": 0.61, "wta": 0.55}, until=20200113)

    assert store.date == 20200113
    assert store.history.tour_serve == {"atp": 0.61, "wta": 0.55}
    assert store.history.folded == 3
    with pytest.raises(FileNotFoundError):
        load_prior_store(tmp_path / "missing", tour_serve_until=2020)
