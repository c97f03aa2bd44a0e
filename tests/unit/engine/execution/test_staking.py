"""Fractional Kelly against hand-computed cases (backs, lays, commission, caps, minimums)."""

import pytest

from engine.execution.config import StakingConfig
from engine.execution.staking import (
    StakeLimit,
    commission_adjusted_edge,
    kelly_fraction,
    limit_price,
    meets_minimum_stake,
    size_order,
)
from engine.execution.types import Side

CFG = StakingConfig(bankroll=1000.0, kelly_fraction=0.25)


def test_back_with_commission_matches_hand_computation():
    # b = (2.5-1)*0.95 = 1.425; edge = .45*1.425 - .55 = .09125; f* = .09125/1.425 = .0640351
    decision = size_order(Side.BACK, 2.5, 0.45, 0.05, CFG)
    assert decision.edge == pytest.approx(0.09125)
    assert decision.full_kelly == pytest.approx(0.09125 / 1.425)
    assert decision.stake == 16.00  # 0.25 * .0640351 * 1000 = 16.0088, floored to pennies
    assert decision.liability == 16.00
    assert decision.limited_by is StakeLimit.KELLY


def test_lay_kelly_sizes_the_liability():
    # lay at 3.0, p = .25: b = .95/2 = .475; edge = .75*.475 - .25 = .10625; f* = .2236842
    decision = size_order(Side.LAY, 3.0, 0.25, 0.05, CFG)
    assert decision.edge == pytest.approx(0.10625)
    assert decision.full_kelly == pytest.approx(0.10625 / 0.475)
    # liability = .25 * .2236842 * 1000 = 55.921; stake = liability / (3 - 1) = 27.96
    assert decision.stake == 27.96
    assert decision.liability == pytest.approx(55.92)


def test_lay_at_evens():
    # b = .95; edge = .6*.95 - .4 = .17; f* = .178947; liability = 44.74 -> stake 44.73
    decision = size_order(Side.LAY, 2.0, 0.40, 0.05, CFG)
    assert decision.stake == 44.73
    assert decision.liability == pytest.approx(44.73)


def test_commission_can_remove_the_edge():
    assert size_order(Side.BACK, 2.0, 0.51, 0.0, CFG).stake == 5.0  # f* = .02
    no_edge = size_order(Side.BACK, 2.0, 0.51, 0.05, CFG)  # .51*.95 - .49 < 0
    assert no_edge.stake == 0.0
    assert no_edge.limited_by is StakeLimit.NO_EDGE
    assert commission_adjusted_edge(Side.BACK, 2.0, 0.51, 0.05) == pytest.approx(-0.0055)


def test_wrong_side_has_no_edge():
    assert kelly_fraction(Side.LAY, 2.5, 0.45, 0.05) == 0.0
    assert size_order(Side.LAY, 2.5, 0.45, 0.05, CFG).limited_by is StakeLimit.NO_EDGE


def test_min_edge_threshold():
    cfg = StakingConfig(bankroll=1000.0, kelly_fraction=0.25, min_edge=0.1)
    assert size_order(Side.BACK, 2.5, 0.45, 0.05, cfg).limited_by is StakeLimit.NO_EDGE


def test_capped_by_available_size():
    decision = size_order(Side.BACK, 2.5, 0.45, 0.05, CFG, available_size=10.0)
    assert decision.stake == 10.0
    assert decision.limited_by is StakeLimit.LIQUIDITY


def test_capped_by_stake_and_liability():
    by_stake = size_order(Side.BACK, 2.5, 0.45, 0.05, CFG, max_stake=7.5)
    assert (by_stake.stake, by_stake.limited_by) == (7.5, StakeLimit.STAKE_CAP)
    by_liability = size_order(Side.LAY, 3.0, 0.25, 0.05, CFG, max_liability=20.0)
    assert by_liability.stake == 10.0  # liability 20 / (3 - 1)
    assert by_liability.liability == 20.0
    assert by_liability.limited_by is StakeLimit.LIABILITY_CAP


def test_below_minimum_stake_is_dropped_not_rounded_up():
    small = StakingConfig(bankroll=10.0, kelly_fraction=0.25)
    decision = size_order(Side.BACK, 2.5, 0.45, 0.05, small)  # Kelly says 0.16
    assert decision.stake == 0.0
    assert decision.limited_by is StakeLimit.BELOW_MIN_STAKE


def test_minimum_payout_exception_only_when_enabled():
    off = StakingConfig()
    on = StakingConfig(allow_small_stake_by_payout=True)
    assert not meets_minimum_stake(0.5, 25.0, off)
    assert meets_minimum_stake(0.5, 25.0, on)  # payout 12.5 >= 10
    assert not meets_minimum_stake(0.5, 10.0, on)  # payout 5
    assert meets_minimum_stake(1.0, 1.01, off)


@pytest.mark.parametrize(
    ("price", "p_win", "commission"), [(1.0, 0.5, 0.05), (2.0, 1.5, 0.05), (2.0, 0.5, 1.0)]
)
def test_invalid_inputs_give_no_stake(price, p_win, commission):
    decision = size_order(Side.BACK, price, p_win, commission, CFG)
    assert decision.stake == 0.0
    assert decision.limited_by is StakeLimit.INVALID_INPUT


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [
        (Side.BACK, 2.013, 2.02),  # a back never accepts shorter odds than computed
        (Side.LAY, 2.013, 2.0),  # a lay never risks longer odds than computed
        (Side.BACK, 3.01, 3.05),  # 0.05 band
        (Side.LAY, 3.01, 3.0),
        (Side.BACK, 4.0, 4.0),  # already a tick: unchanged either way
        (Side.LAY, 4.0, 4.0),
        (Side.BACK, 1000.5, 1000.0),  # clamped to the ladder ends
        (Side.LAY, 1.005, 1.01),
    ],
)
def test_limit_prices_are_rounded_onto_the_ladder_in_our_favour(side, price, expected):
    assert limit_price(side, price) == expected
