"""Structural properties of the chain over every legal state of a grid, for every match format."""

import itertools
import math

import numpy as np
import pytest

from engine.physics.chain import service_game_loss
from engine.physics.pricing import p_match, p_match_batch, price, what_if
from engine.physics.rules import FINAL_SET_RULES, MatchRules
from engine.physics.state import MatchState, validate

ALL_RULES = [
    MatchRules(best_of=b, final_set=f, no_ad=n)  # type: ignore[arg-type]
    for b in (3, 5)
    for f in FINAL_SET_RULES
    for n in (False, True)
]
GAMES = [(0, 0), (3, 2), (4, 5), (5, 5), (6, 5), (5, 6), (6, 6), (9, 8), (11, 12), (12, 12)]
POINTS = [(0, 0), (2, 1), (0, 3), (3, 3), (4, 3), (3, 4), (5, 5), (6, 5), (5, 6), (8, 9), (9, 9)]
PROBS = [(0.65, 0.62), (0.70, 0.60), (0.55, 0.71)]


def legal_states(rules):
    states = []
    need = rules.sets_to_win
    for s1, s2 in itertools.product(range(need), repeat=2):
        sets = (s1, s2)
        for games, points, server in itertools.product(GAMES, POINTS, (1, 2)):
            state = MatchState(sets=sets, games=games, points=points, server=server)
            try:
                validate(state, rules)
            except ValueError:
                continue
            states.append(state)
    return states


def swapped(state):
    return MatchState(
        sets=state.sets[::-1],
        games=state.games[::-1],
        points=state.points[::-1],
        server=3 - state.server,
    )


@pytest.mark.parametrize("rules", ALL_RULES, ids=str)
def test_swapping_players_gives_one_minus_p(rules):
    states = legal_states(rules)
    assert len(states) > 100

    for (pa, pb), state in itertools.product(PROBS, states):
        forward = p_match(pa, pb, rules, state)
        backward = p_match(pb, pa, rules, swapped(state))
        assert forward + backward == pytest.approx(1.0, abs=1e-12), state


@pytest.mark.parametrize("rules", ALL_RULES, ids=str)
def test_who_serves_first_in_a_set_does_not_change_set_or_match_probability(rules):
    need = rules.sets_to_win
    for (pa, pb), (s1, s2) in itertools.product(PROBS, itertools.product(range(need), repeat=2)):
        sets = (s1, s2)
        first_p1 = price(pa, pb, rules, MatchState(sets=sets, server=1))
        first_p2 = price(pa, pb, rules, MatchState(sets=sets, server=2))

        assert first_p1.p_set == pytest.approx(first_p2.p_set, abs=1e-12)
        assert first_p1.p_match == pytest.approx(first_p2.p_match, abs=1e-12)


@pytest.mark.parametrize("rules", ALL_RULES, ids=str)
def test_point_what_ifs_average_to_the_price(rules):
    for state in legal_states(rules)[::3]:
        pa, pb = 0.66, 0.61
        result = price(pa, pb, rules, state)
        q = pa if state.server == 1 else 1.0 - pb

        assert q * result.if_point_won + (1 - q) * result.if_point_lost == pytest.approx(
            result.p_match, abs=1e-12
        )
        assert result.if_point_lost <= result.p_match <= result.if_point_won


@pytest.mark.parametrize("rules", ALL_RULES, ids=str)
def test_set_score_pmf_is_a_distribution_consistent_with_p_match(rules):
    need = rules.sets_to_win
    for state in legal_states(rules)[::5]:
        result = price(0.64, 0.63, rules, state)
        pmf = result.set_score_pmf

        assert len(pmf) == 2 * need
        assert sum(pmf.values()) == pytest.approx(1.0, abs=1e-12)
        assert all(v >= 0.0 for v in pmf.values())
        p1_wins = sum(v for k, v in pmf.items() if k.startswith(f"{need}-"))
        assert p1_wins == pytest.approx(result.p_match, abs=1e-12)
        for key, value in pmf.items():
            a, b = (int(x) for x in key.split("-"))
            if a < state.sets[0] or b < state.sets[1]:
                assert value == 0.0


def test_long_deuce_tiebreak_and_advantage_set_counts_are_equivalent_states():
    rules = MatchRules(best_of=5, final_set="adv")

    def value(sets, games, points, server):
        return p_match(0.66, 0.63, rules, MatchState(sets, games, points, server))

    assert value((0, 0), (2, 2), (7, 6), 1) == value((0, 0), (2, 2), (4, 3), 1)
    assert value((0, 0), (2, 2), (9, 9), 2) == value((0, 0), (2, 2), (3, 3), 2)
    assert value((1, 1), (6, 6), (11, 10), 2) == value((1, 1), (6, 6), (7, 6), 2)
    assert value((2, 2), (15, 14), (0, 0), 1) == value((2, 2), (6, 5), (0, 0), 1)


def test_equal_players_at_the_start_are_even():
    for rules in ALL_RULES:
        assert p_match(0.63, 0.63, rules, MatchState()) == pytest.approx(0.5, abs=1e-12)


def test_price_p_game_and_p_set_in_a_tiebreak_are_the_tiebreak():
    result = price(0.65, 0.62, MatchRules(), MatchState((0, 0), (6, 6), (0, 0), 1))

    assert result.p_game == result.p_set
    assert round(result.p_game, 5) == 0.54951


def test_expected_games_diff_is_antisymmetric_for_equal_players_and_counts_current_set():
    rules = MatchRules(best_of=3)
    # equal players: serving first is worth games (not sets), so only the sum over servers is 0
    first_p1 = price(0.6, 0.6, rules, MatchState(server=1))
    first_p2 = price(0.6, 0.6, rules, MatchState(server=2))
    # 5-0 up: the current set alone will end at least 4 games ahead
    ahead = price(0.6, 0.6, rules, MatchState((0, 0), (5, 0), (0, 0), 1))

    assert first_p1.expected_games_diff > 0.0
    assert first_p1.expected_games_diff + first_p2.expected_games_diff == pytest.approx(
        0.0, abs=1e-12
    )
    assert ahead.expected_games_diff > 4.0


@pytest.mark.parametrize("rules", ALL_RULES[::3], ids=str)
def test_batch_equals_one_at_a_time(rules):
    states = legal_states(rules)
    rows = np.array([s.as_row() for s in states])
    rng = np.random.default_rng(7)
    pa = np.repeat(rng.uniform(0.5, 0.75, size=len(rows) // 10 + 1), 10)[: len(rows)]
    pb = np.repeat(rng.uniform(0.5, 0.75, size=len(rows) // 10 + 1), 10)[: len(rows)]

    batch = p_match_batch(pa, pb, rules, rows)

    single = [p_match(float(a), float(b), rules, s) for a, b, s in zip(pa, pb, states, strict=True)]
    assert batch.tolist() == single


def test_batch_names_the_bad_row_and_field():
    rows = np.array([[0, 0, 0, 0, 0, 0, 1], [0, 0, 7, 5, 0, 0, 1]])

    with pytest.raises(ValueError, match=r"^games: .*row 1"):
        p_match_batch(0.6, 0.6, MatchRules(), rows)
    with pytest.raises(ValueError, match=r"^pb: row 0"):
        p_match_batch(0.6, np.array([1.0, 0.5]), MatchRules(), rows[:1].repeat(2, axis=0))
    with pytest.raises(ValueError, match=r"^pa: expected a number or 2 numbers"):
        p_match_batch(np.array([0.6, 0.6, 0.6]), 0.6, MatchRules(), rows)
    with pytest.raises(ValueError, match=r"^states: expected shape"):
        p_match_batch(0.6, 0.6, MatchRules(), np.zeros((3, 6), dtype=int))


@pytest.mark.parametrize(
    ("pa", "pb", "field"),
    [
        (0.0, 0.6, "pa"),
        (1.0, 0.6, "pa"),
        (math.nan, 0.6, "pa"),
        (0.6, -0.1, "pb"),
        (0.6, 1.2, "pb"),
    ],
)
def test_probabilities_outside_the_open_unit_interval_are_refused(pa, pb, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        p_match(pa, pb, MatchRules(), MatchState())
    with pytest.raises(ValueError, match=f"^{field}:"):
        price(pa, pb, MatchRules(), MatchState())


def test_illegal_state_is_refused_by_the_fast_path_with_the_field():
    with pytest.raises(ValueError, match=r"^points:"):
        p_match(0.6, 0.6, MatchRules(), MatchState((0, 0), (1, 1), (5, 2), 1))


@pytest.mark.parametrize("rules", ALL_RULES, ids=str)
@pytest.mark.parametrize(
    ("pa", "pb"), [(1 - 1e-9, 1 - 1e-9), (1e-9, 1e-9), (1 - 1e-9, 1e-9), (0.999, 0.998)]
)
def test_extreme_serve_probabilities_still_give_probabilities(rules, pa, pb):
    for state in legal_states(rules)[::7]:
        result = price(pa, pb, rules, state)
        values = [result.p_match, result.p_set, result.p_game, *result.set_score_pmf.values()]

        assert all(0.0 <= v <= 1.0 for v in values), state
        assert math.isfinite(result.expected_games_diff)
        assert sum(result.set_score_pmf.values()) == pytest.approx(1.0, abs=1e-9)


def test_service_game_loss_is_the_complement_of_the_hold_table():
    for no_ad in (False, True):
        rules = MatchRules(no_ad=no_ad)
        for p in (0.3, 0.6, 0.65, 0.9):
            hold = price(p, 0.5, rules, MatchState()).p_game
            assert service_game_loss(p, int(no_ad)) == pytest.approx(1.0 - hold, abs=1e-14)


@pytest.mark.parametrize("rules", ALL_RULES[::2], ids=str)
def test_what_if_matches_price(rules):
    for state in legal_states(rules)[::4]:
        full = price(0.67, 0.6, rules, state)

        assert what_if(0.67, 0.6, rules, state) == (
            full.p_match,
            full.if_point_won,
            full.if_point_lost,
        )
        assert full.p_match == p_match(0.67, 0.6, rules, state)


def test_price_and_what_if_refuse_illegal_states_naming_the_field():
    bad = MatchState((0, 0), (7, 5), (0, 0), 1)

    with pytest.raises(ValueError, match=r"^games:"):
        price(0.6, 0.6, MatchRules(), bad)
    with pytest.raises(ValueError, match=r"^games:"):
        what_if(0.6, 0.6, MatchRules(), bad)


def test_cache_slots_replaced_by_other_probabilities_give_the_same_values():
    rules = MatchRules(best_of=5, final_set="tb7@12")
    state = MatchState((2, 2), (11, 12), (4, 3), 2)
    rng = np.random.default_rng(3)
    pairs = rng.uniform(0.5, 0.75, size=(2_000, 2))  # far more pairs than cache slots
    expected = p_match_batch(pairs[:, 0], pairs[:, 1], rules, np.array([state.as_row()] * 2_000))

    first = [p_match(float(a), float(b), rules, state) for a, b in pairs]
    second = [p_match(float(a), float(b), rules, state) for a, b in pairs[::-1]][::-1]
    mixed = [price(float(a), float(b), rules, state).p_match for a, b in pairs[::7]]

    assert first == expected.tolist()
    assert second == expected.tolist()
    assert mixed == expected[::7].tolist()
