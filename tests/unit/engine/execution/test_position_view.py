"""The strategy's position view: head-room equals what the risk check accepts, to the penny."""

import math
import random

import pytest

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.orders import OrderDecision
from engine.execution.position_view import build_position_view
from engine.execution.positions import PositionBook
from engine.execution.risk import (
    OpenOrder,
    RejectReason,
    RiskManager,
    liability_headroom,
)
from engine.execution.staking import floor_pennies
from engine.execution.types import MarketState, OrderRequest, Side
from engine.market.ticks import round_to_tick
from engine.strategy import PositionView, RestingOrder, SelectionPosition

T0 = 1_700_000_000_000
WIDE = RiskConfig(
    max_order_stake=1000.0,
    max_order_liability=1000.0,
    max_selection_exposure=150.0,
    max_match_exposure=200.0,
    max_total_exposure=500.0,
    max_orders_per_window=10_000,
)
OPEN = MarketState("1.1", "OPEN", in_play=True, runner_ids=(1, 2), event_id="e1")
LIMITS = {
    RejectReason.ORDER_STAKE,
    RejectReason.ORDER_LIABILITY,
    RejectReason.SELECTION_EXPOSURE,
    RejectReason.MATCH_EXPOSURE,
    RejectReason.TOTAL_EXPOSURE,
}


def make(config: RiskConfig = WIDE, open_orders: list[OpenOrder] | None = None):
    positions = PositionBook()
    orders = open_orders if open_orders is not None else []
    risk = RiskManager(config, StakingConfig(), positions, lambda: T0, lambda: orders)
    return risk, positions, orders


def view_of(risk: RiskManager, positions: PositionBook, orders, market: MarketState = OPEN):
    return build_position_view(
        market.market_id,
        market.runner_ids,
        positions.markets.get(market.market_id),
        orders,
        risk.exposure_room(market),
    )


def request(side: Side, price: float, size: float, selection: int = 1, market: str = "1.1"):
    return OrderRequest(market, selection, side, price, size, "ref")


def test_a_flat_book_has_the_per_order_caps_as_head_room():
    risk, positions, orders = make(RiskConfig())  # order stake 50, liability 100

    view = view_of(risk, positions, orders)

    p1 = view.selection(1)
    assert (p1.back_headroom, p1.lay_headroom) == (50.0, 100.0)
    assert (p1.pnl_if_wins, p1.back_matched, p1.lay_matched, p1.resting) == (0.0, 0.0, 0.0, ())
    assert view.worst_case_loss == 0.0 and view.blocked == ""
    assert view.max_stake(1, Side.LAY, 5.0) == 25.0  # liability 100 / 4
    assert view.max_stake(1, Side.LAY, 1.5) == 50.0  # the stake cap binds a short lay


@pytest.mark.parametrize(
    ("side", "price", "headroom"),
    [
        (Side.BACK, 2.5, 30.0),  # selection: 150 − 120 already lost if player 1 loses
        (Side.LAY, 4.0, 270.0),  # selection: 150 + 120 won if player 1 wins
    ],
)
def test_an_order_at_exactly_the_head_room_passes_and_a_penny_more_is_refused(
    side, price, headroom
):
    risk, positions, orders = make()
    positions.describe_market("1.1", (1, 2), "e1")
    positions.add_fill("1.1", 1, Side.BACK, 2.0, 120.0)

    view = view_of(risk, positions, orders)
    stake = view.max_stake(1, side, price)
    at = risk.check(request(side, price, stake), OPEN)
    over = risk.check(request(side, price, round(stake + 0.01, 2)), OPEN)

    assert view.selection(1).headroom(side) == pytest.approx(headroom)
    assert at.accepted
    assert over.reason in (RejectReason.SELECTION_EXPOSURE, RejectReason.MATCH_EXPOSURE)


def test_a_lay_against_a_held_back_has_more_room_than_on_a_flat_book():
    risk, positions, orders = make()
    flat = view_of(risk, positions, orders).selection(1).lay_headroom
    positions.add_fill("1.1", 1, Side.BACK, 3.0, 50.0)  # +100 if 1 wins, −50 otherwise

    held = view_of(risk, positions, orders).selection(1)

    assert flat == 150.0
    assert held.lay_headroom == 250.0  # 150 + the 100 won if 1 wins
    assert held.back_headroom == 100.0  # 150 − the 50 lost if 1 loses


def test_other_markets_of_the_event_and_of_the_account_shrink_the_room():
    risk, positions, orders = make()
    positions.describe_market("1.2", (7, 8), "e1")  # same match, another market
    positions.add_fill("1.2", 7, Side.BACK, 2.0, 120.0)
    positions.describe_market("1.3", (5, 6), "e2")  # another match
    positions.add_fill("1.3", 5, Side.LAY, 3.0, 100.0)  # 200 liability

    p1 = view_of(risk, positions, orders).selection(1)

    assert p1.back_headroom == pytest.approx(80.0)  # match: 200 − 120
    assert p1.lay_headroom == pytest.approx(80.0)
    too_much = risk.check(request(Side.BACK, 2.0, 80.01), OPEN)
    assert too_much.reason is RejectReason.MATCH_EXPOSURE


def test_total_exposure_can_be_the_binding_limit():
    risk, positions, orders = make(
        RiskConfig(
            max_order_stake=1000.0,
            max_order_liability=1000.0,
            max_selection_exposure=150.0,
            max_match_exposure=200.0,
            max_total_exposure=300.0,
            max_orders_per_window=1000,
        )
    )
    positions.describe_market("1.3", (5, 6), "e2")
    positions.add_fill("1.3", 5, Side.LAY, 3.0, 130.0)  # 260 liability elsewhere

    view = view_of(risk, positions, orders)

    assert view.selection(2).back_headroom == pytest.approx(40.0)
    assert risk.check(request(Side.BACK, 2.0, 40.0, selection=2), OPEN).accepted
    over = risk.check(request(Side.BACK, 2.0, 40.01, selection=2), OPEN)
    assert over.reason is RejectReason.TOTAL_EXPOSURE


def test_resting_orders_are_listed_and_use_up_room_at_their_worst():
    resting = [
        OpenOrder("1.1", 1, Side.BACK, 2.0, 40.0),
        OpenOrder("1.1", 1, Side.LAY, 3.0, 10.0),
        OpenOrder("1.9", 1, Side.BACK, 2.0, 99.0),  # another market: not ours here
    ]
    risk, positions, orders = make(open_orders=resting)

    p1 = view_of(risk, positions, orders).selection(1)

    assert p1.resting == (RestingOrder(Side.BACK, 2.0, 40.0), RestingOrder(Side.LAY, 3.0, 10.0))
    assert (p1.resting_back, p1.resting_lay) == (40.0, 10.0)
    assert p1.is_resting_at(Side.BACK, 2.0) and not p1.is_resting_at(Side.LAY, 2.0)
    assert p1.worst_if_wins == -20.0 and p1.pnl_if_wins == 0.0
    assert p1.back_headroom == 110.0  # 150 − 40 resting
    assert p1.lay_headroom == 130.0  # 150 − 20 resting liability


def test_everything_is_blocked_by_the_kill_switch_the_market_and_the_order_rate():
    risk, positions, orders = make(RiskConfig(max_orders_per_window=1))
    suspended = MarketState("1.1", "SUSPENDED", in_play=True, runner_ids=(1, 2))

    assert view_of(risk, positions, orders, suspended).blocked == "market_not_open"
    assert risk.check(request(Side.BACK, 2.0, 5.0), OPEN).accepted  # fills the rate window
    rate = view_of(risk, positions, orders)
    risk.kill_switch.engage("test", T0)
    killed = view_of(risk, positions, orders)

    assert rate.blocked == "order_rate" and rate.selection(1).back_headroom == 0.0
    assert killed.blocked == "kill_switch" and killed.max_stake(1, Side.LAY, 2.0) == 0.0


def test_runners_unknown_count_someone_else_winning():
    risk, positions, _ = make()
    positions.add_fill("1.1", 2, Side.BACK, 2.0, 60.0)
    unknown = MarketState("1.1", "OPEN", in_play=True)

    room = risk.exposure_room(unknown)

    # backing 1 loses if 2 or a third runner wins: the third case already loses 60
    assert liability_headroom(room, 1, Side.BACK) == pytest.approx(140.0)
    assert risk.check(request(Side.BACK, 2.0, 140.0), unknown).accepted


def test_an_unknown_selection_has_no_room_and_a_view_is_immutable():
    view = PositionView("1.1", (SelectionPosition(1),))

    assert view.max_stake(99, Side.BACK, 2.0) == 0.0
    assert view.max_stake(1, Side.BACK, 2.0) == math.inf
    with pytest.raises(AttributeError):
        view.blocked = "x"  # type: ignore[misc]


@pytest.mark.parametrize("seed", range(6))
def test_head_room_matches_the_risk_check_on_random_books(seed):
    """Books built with fills and resting orders in two markets of one match; every selection
    and side at a random price: the floored head-room stake passes, a penny more is refused."""
    rng = random.Random(seed)
    tried = 0
    for _ in range(40):
        resting: list[OpenOrder] = []
        risk, positions, orders = make(open_orders=resting)
        positions.describe_market("1.1", (1, 2), "e1")
        for market, runners, event in (("1.1", (1, 2), "e1"), ("1.2", (3, 4), "e1")):
            positions.describe_market(market, runners, event)
            for _ in range(rng.randint(0, 3)):
                price = round_to_tick(rng.uniform(1.2, 6.0), "down")
                size = round(rng.uniform(1.0, 60.0), 2)
                side = rng.choice((Side.BACK, Side.LAY))
                if rng.random() < 0.7:
                    positions.add_fill(market, rng.choice(runners), side, price, size)
                else:
                    resting.append(OpenOrder(market, rng.choice(runners), side, price, size))
        view = view_of(risk, positions, orders)
        for selection in (1, 2):
            for side in (Side.BACK, Side.LAY):
                price = round_to_tick(rng.uniform(1.3, 8.0), "down")
                stake = floor_pennies(view.max_stake(selection, side, price))
                if stake < 1.0:  # below the minimum stake: nothing to try
                    continue
                at = risk.check(request(side, price, stake, selection), OPEN)
                over = risk.check(request(side, price, round(stake + 0.01, 2), selection), OPEN)
                assert at.accepted, (seed, selection, side, price, stake, at)
                assert over.reason in LIMITS, (seed, selection, side, price, stake)
                tried += 1
    assert tried >= 60  # most random books leave room somewhere: the check really ran


async def test_the_order_manager_builds_the_view_from_its_own_orders(sim_order_manager):
    manager = await sim_order_manager(RiskConfig(), StakingConfig(), 100.0)
    state = MarketState("1.42", "OPEN", in_play=False, runner_ids=(1, 2), event_id="e")
    await manager.submit(OrderDecision("s", "d1", "1.42", 1, Side.BACK, 2.0, 20.0), state)
    await manager.submit(OrderDecision("s", "d2", "1.42", 1, Side.BACK, 2.1, 10.0), state)

    view = manager.position_view(state, (1, 2))

    p1 = view.selection(1)
    assert p1.back_matched == 20.0 and p1.pnl_if_wins == pytest.approx(20.0)
    assert p1.resting == (RestingOrder(Side.BACK, 2.1, 10.0),)
    assert p1.back_headroom == pytest.approx(min(50.0, 150.0 - 30.0))
    assert view.worst_case_loss == pytest.approx(30.0)
    assert tuple(s.selection_id for s in view.selections) == (1, 2)
