"""The next point's physics priced ahead (engine.core.lookahead): what it foresees must be exactly
what pricing the point on the spot gives, and anything it did not foresee must miss."""

from __future__ import annotations

import dataclasses

import pytest

from engine.core.lookahead import PointLookahead, price_point, speculate
from engine.physics.inplay import ServeStrengthTracker
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.score.scoring import Score

SLOPE = 1.07


def _score(rules: MatchRules, winners: list[int], first_server: int = 1) -> Score:
    score = Score(rules, first_server)
    for winner in winners:
        score.play_point(winner)
    return score


# scores just before the points that change the most: a plain point, deuce, game point, set point,
# a tiebreak (server rotation), a final-set tiebreak at 6-6, a long advantage final set
_GAME = [1, 1, 1, 1]  # player 1 wins a game to love
_TWO_GAMES = [*_GAME, 2, 2, 2, 2]  # then player 2 does
CASES = {
    "first point": (MatchRules(best_of=3), []),
    "deuce": (MatchRules(best_of=3), [1, 2, 1, 2, 1, 2]),
    "game point": (MatchRules(best_of=5), [1, 1, 1]),
    "set point": (MatchRules(best_of=3), [*(_TWO_GAMES * 5), *_GAME, 1, 1, 1]),
    "tiebreak": (MatchRules(best_of=3), [*(_TWO_GAMES * 6), 1, 2, 2]),
    "match point": (MatchRules(best_of=3), [1] * (24 + 20 + 3)),  # 6-0 5-0 40-0
}


def _tracker() -> ServeStrengthTracker:
    return ServeStrengthTracker(0.66, 0.61, 200.0, served_a=30, won_a=21, served_b=28, won_b=17)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_foreseen_outcome_is_what_pricing_on_the_spot_gives(case):
    rules, winners = CASES[case]
    score = _score(rules, winners)
    tracker = _tracker()
    server = score.server

    outcomes = speculate(score, tracker, SLOPE)

    expected = []
    for winner in (1, 2):
        actual = score.copy()
        actual.play_point(winner)
        if actual.is_complete:
            continue
        played = dataclasses.replace(tracker)
        played.record_point(server, winner == server)
        pa, pb = played.current()
        state = actual.pricing_state()
        expected.append(price_point(pa, pb, rules, state, SLOPE, server=server, winner=winner))
    assert outcomes == tuple(expected)
    assert len(outcomes) == (1 if case == "match point" else 2)


def test_speculating_changes_neither_the_score_nor_the_tracker():
    rules, winners = CASES["tiebreak"]
    score = _score(rules, winners)
    tracker = _tracker()
    before_key, before_tracker = score.key(), dataclasses.replace(tracker)

    speculate(score, tracker, SLOPE)

    assert score.key() == before_key
    assert tracker == before_tracker


def _foreseen(case: str) -> tuple[PointLookahead, float, float, MatchState, MatchRules]:
    """A lookahead filled before the point of CASES[case], and the inputs of that point when
    player 1 wins it."""
    rules, winners = CASES[case]
    score = _score(rules, winners)
    tracker = _tracker()
    lookahead = PointLookahead()
    lookahead.outcomes = speculate(score, tracker, SLOPE)
    won = score.copy()
    won.play_point(1)
    pa, pb = tracker.after(score.server, score.server == 1)
    return lookahead, pa, pb, won.pricing_state(), rules


def test_take_returns_the_matching_outcome_once_and_counts_hits_and_misses():
    lookahead, pa, pb, state, rules = _foreseen("deuce")

    hit = lookahead.take(pa, pb, state, rules)
    again = lookahead.take(pa, pb, state, rules)  # used once: the next point needs new ones

    assert hit is not None and hit.state == state and (hit.pa, hit.pb) == (pa, pb)
    assert again is None
    assert (lookahead.hits, lookahead.misses) == (1, 1)


@pytest.mark.parametrize("change", ["pa", "state", "rules"])
def test_any_input_not_foreseen_is_a_miss(change):
    lookahead, pa, pb, state, rules = _foreseen("game point")
    if change == "pa":
        pa = pa + 1e-12
    elif change == "state":
        state = dataclasses.replace(state, server=3 - state.server)
    else:
        rules = MatchRules(best_of=5, final_set="adv")

    assert lookahead.take(pa, pb, state, rules) is None
    assert (lookahead.hits, lookahead.misses) == (0, 1)


def test_a_copied_score_plays_on_independently():
    rules, winners = CASES["set point"]  # 6-5 40-0, player 1 serving for the set
    score = _score(rules, winners)
    twin = score.copy()

    twin.play_point(1)

    assert (twin.sets, twin.games, twin.points) == ([1, 0], [0, 0], [0, 0])
    assert twin.set_scores == [(7, 5)]
    assert (score.sets, score.games, score.points) == ([0, 0], [6, 5], [3, 0])
    assert score.set_scores == []
