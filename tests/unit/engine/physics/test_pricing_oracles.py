"""Published values (DESIGN.md §4), to every digit given.

Where each oracle is defined: P(hold) is a service game from 0-0; the tiebreak and set values
are from 0-0 with player 1 serving first (and, by Newton & Keller's invariance, also with player 2
first); match values are from the first point of the match.
"""

import pytest

from engine.physics.chain import TB7, TB7_DIM, game_and_set, tiebreak_prob
from engine.physics.pricing import p_match, tables_for
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState

START = MatchState()


@pytest.mark.parametrize(("p", "expected"), [(0.60, 0.735729), (0.65, 0.829645), (0.70, 0.900789)])
def test_hold_probability(p, expected):
    tab = tables_for(p, 0.5, MatchRules())

    hold, _set = game_and_set(tab, 0, 0, 0, 0, 0, 0, 1)

    assert round(hold, 6) == expected


@pytest.mark.parametrize("first_server", [1, 2])
def test_tiebreak_and_set_for_065_062(first_server):
    tab = tables_for(0.65, 0.62, MatchRules())

    tiebreak = tiebreak_prob(tab, TB7, TB7_DIM, 7, first_server, 0, 0)
    _game, p_set = game_and_set(tab, 0, 0, 0, 0, 0, 0, first_server)

    assert round(tiebreak, 5) == 0.54951
    assert round(p_set, 5) == 0.59902


@pytest.mark.parametrize(
    ("pa", "pb", "rules", "expected"),
    [
        (0.65, 0.62, MatchRules(best_of=3, final_set="tb7@6"), 0.64659),
        (0.65, 0.62, MatchRules(best_of=5, final_set="tb7@6"), 0.68087),
        (0.65, 0.62, MatchRules(best_of=5, final_set="adv"), 0.68348),
        (0.65, 0.62, MatchRules(best_of=5, final_set="tb10@6"), 0.68150),
        (0.70, 0.60, MatchRules(best_of=3, final_set="tb7@6"), 0.89101),
        (0.70, 0.60, MatchRules(best_of=5, final_set="tb7@6"), 0.93805),
    ],
)
@pytest.mark.parametrize("server", [1, 2])
def test_match_probability(pa, pb, rules, expected, server):
    value = p_match(pa, pb, rules, MatchState(server=server))

    assert round(value, 5) == expected
