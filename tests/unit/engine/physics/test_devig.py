import math

import pytest

from engine.physics.devig import (
    DEVIG_METHODS,
    devig,
    devig_multiplicative,
    devig_power,
    devig_shin,
    power_exponent,
    shin_insider_share,
)


def test_multiplicative_matches_hand_computation():
    # 1/1.5 = 0.666667, 1/2.8 = 0.357143, book = 1.023810
    p1, p2 = devig_multiplicative(1.50, 2.80)
    assert p1 == pytest.approx((1 / 1.5) / (1 / 1.5 + 1 / 2.8), abs=1e-15)
    assert p1 == pytest.approx(0.6511627907, abs=1e-10)
    assert p1 + p2 == pytest.approx(1.0, abs=1e-15)


def test_power_recovers_a_known_exponent():
    # Implied probabilities 0.8 and 0.6 are the square roots of 0.64 and 0.36: k = 2 exactly.
    p1, p2 = devig_power(1 / 0.8, 1 / 0.6)
    assert p1 == pytest.approx(0.64, abs=1e-12)
    assert p2 == pytest.approx(0.36, abs=1e-12)
    assert power_exponent(0.8, 0.6) == pytest.approx(2.0, abs=1e-12)


def test_power_value_for_the_cli_example():
    p1, p2 = devig_power(1.50, 2.80)
    k = power_exponent(1 / 1.5, 1 / 2.8)
    assert (1 / 1.5) ** k + (1 / 2.8) ** k == pytest.approx(1.0, abs=1e-14)
    assert p1 == pytest.approx(0.656511, abs=1e-6)
    assert p1 + p2 == pytest.approx(1.0, abs=1e-15)


def test_shin_for_two_outcomes_equals_the_additive_method():
    # With two outcomes Shin's model takes the margin off equally: p_i = q_i - (book - 1) / 2.
    q1, q2 = 1 / 1.5, 1 / 2.8
    p1, p2 = devig_shin(1.50, 2.80)
    assert p1 == pytest.approx(q1 - (q1 + q2 - 1) / 2, abs=1e-12)
    assert p2 == pytest.approx(q2 - (q1 + q2 - 1) / 2, abs=1e-12)
    assert 0.0 < shin_insider_share(q1, q2) < 0.05


def test_favourite_gets_more_than_multiplicative_from_power_and_shin():
    mult = devig_multiplicative(1.20, 5.00)[0]
    assert devig_power(1.20, 5.00)[0] > mult
    assert devig_shin(1.20, 5.00)[0] > mult


@pytest.mark.parametrize("method", DEVIG_METHODS)
def test_fair_book_is_returned_unchanged(method):
    p1, p2 = devig(2.0, 2.0, method)
    assert (p1, p2) == pytest.approx((0.5, 0.5), abs=1e-15)


@pytest.mark.parametrize("method", DEVIG_METHODS)
def test_swapping_the_players_swaps_the_probabilities(method):
    a = devig(1.37, 3.25, method)
    b = devig(3.25, 1.37, method)
    assert a[0] == pytest.approx(b[1], abs=1e-13)


@pytest.mark.parametrize("method", DEVIG_METHODS)
@pytest.mark.parametrize(
    ("odds", "field"),
    [((1.0, 2.5), "odds_p1"), ((1.8, 0.9), "odds_p2"), ((math.nan, 2.0), "odds_p1")],
)
def test_odds_at_or_below_one_are_refused_naming_the_field(method, odds, field):
    with pytest.raises(ValueError, match=field):
        devig(odds[0], odds[1], method)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="devig"):
        devig(1.5, 2.8, "additive-ish")


def test_power_handles_an_over_fair_book_but_shin_refuses_it():
    p1, p2 = devig_power(2.1, 2.1)
    assert (p1, p2) == pytest.approx((0.5, 0.5))
    with pytest.raises(ValueError, match="no margin"):
        devig_shin(2.1, 2.1)
