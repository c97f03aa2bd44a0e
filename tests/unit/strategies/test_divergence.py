"""Divergence strategy: trades only on an open gate, on the right side, staked by Kelly within
the risk head-room of its position view, never stacking, and greening up on a reversed edge."""

import pytest

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.position_view import build_position_view
from engine.execution.positions import PositionBook
from engine.execution.risk import RejectReason, RiskManager
from engine.execution.staking import size_order
from engine.execution.types import MarketState, OrderRequest
from engine.gate import GateConfig, GateInputs, GateState, evaluate
from engine.prediction import PredictionRecord
from engine.strategy import (
    BookView,
    MatchView,
    OrderIntent,
    PositionView,
    RestingOrder,
    RunnerQuote,
    SelectionPosition,
    Side,
    Strategy,
)
from strategies.divergence import DivergenceStrategy

MATCH = MatchView("m1", "1.200", selections=(101, 202))
STAKING = StakingConfig(bankroll=1000.0, kelly_fraction=0.25)


def _gate(fair: float, market: float, **changes):
    config = GateConfig()
    state = GateState(config)
    for _ in range(config.emu_error_window):
        state.observe_point(market, market)
    fresh = {
        "has_score_feed": True,
        "suspended": False,
        "stream_age_s": 0.1,
        "score_age_s": 1.0,
        "score_trusted": True,
        "depth": 1000.0,
        "cum_size": 5000.0,
        "distress": 0.0,
    }
    inputs = GateInputs(fair, market, **{**fresh, **changes})
    return evaluate(config, state, inputs)


def _prediction(fair: float, gate) -> PredictionRecord:
    return PredictionRecord("m1", 40, 1.0, fair, 0.5, {}, gate, market_prob=0.5)


def _book(back=(2.0, 300.0), lay=(2.02, 250.0)) -> BookView:
    p1 = RunnerQuote(101, back[0], back[1], lay[0], lay[1])
    p2 = RunnerQuote(202, 1.98, 400.0, 2.0, 400.0)
    return BookView("1.200", commission=0.05, in_play=True, runners=(p1, p2))


def test_backs_player_one_at_the_best_back_price_when_fair_is_above_the_market():
    strategy: Strategy = DivergenceStrategy(STAKING)
    gate = _gate(0.56, 0.4975)

    intents = strategy.on_prediction(MATCH, _prediction(0.56, gate), gate, _book())

    expected = size_order(Side.BACK, 2.0, 0.56, 0.05, STAKING, available_size=300.0)
    assert len(intents) == 1
    intent = intents[0]
    assert (intent.market_id, intent.selection_id, intent.side) == ("1.200", 101, Side.BACK)
    assert intent.price == 2.0
    assert intent.size == expected.stake > 0
    assert "side=BACK" in intent.reason and "gate=open" in intent.reason


def test_lays_player_one_at_the_best_lay_price_when_fair_is_below_the_market():
    gate = _gate(0.44, 0.4975)

    (intent,) = DivergenceStrategy(STAKING).on_prediction(
        MATCH, _prediction(0.44, gate), gate, _book()
    )

    assert intent.side is Side.LAY
    assert intent.price == 2.02
    assert (
        intent.size == size_order(Side.LAY, 2.02, 0.44, 0.05, STAKING, available_size=250.0).stake
    )


def test_nothing_when_the_gate_is_closed():
    gate = _gate(0.60, 0.4975, suspended=True)

    assert (
        DivergenceStrategy(STAKING).on_prediction(MATCH, _prediction(0.6, gate), gate, _book())
        == []
    )


def test_nothing_when_the_edge_disappears_at_the_price_actually_available():
    gate = _gate(0.53, 0.50)  # open at the mid, but backing at 1.80 (0.556) has no edge

    intents = DivergenceStrategy(STAKING).on_prediction(
        MATCH, _prediction(0.53, gate), gate, _book(back=(1.8, 300.0))
    )

    assert gate.open
    assert intents == []


def test_stake_is_capped_by_the_size_on_offer_and_empty_sides_are_skipped():
    gate = _gate(0.60, 0.4975)

    (capped,) = DivergenceStrategy(STAKING).on_prediction(
        MATCH, _prediction(0.6, gate), gate, _book(back=(2.0, 7.5))
    )
    empty = DivergenceStrategy(STAKING).on_prediction(
        MATCH, _prediction(0.6, gate), gate, _book(back=(None, 0.0))
    )

    assert capped.size == 7.5
    assert empty == []


def test_order_intent_refuses_off_ladder_prices_and_bad_sizes():
    with pytest.raises(ValueError, match="price"):
        OrderIntent("1.1", 1, Side.BACK, 2.03, None, 0.5, "x")
    with pytest.raises(ValueError, match="size"):
        OrderIntent("1.1", 1, Side.BACK, 2.02, 0.0, 0.5, "x")
    assert OrderIntent("1.1", 1, Side.LAY, 2.02, None, 0.5, "size me").size is None


def test_stake_is_capped_by_the_per_order_risk_limits():
    gate = _gate(0.70, 0.4975)
    risk = RiskConfig(max_order_stake=5.0, max_order_liability=100.0)

    (intent,) = DivergenceStrategy(STAKING, risk).on_prediction(
        MATCH, _prediction(0.70, gate), gate, _book()
    )

    uncapped = size_order(Side.BACK, 2.0, 0.70, 0.05, STAKING, available_size=300.0)
    assert uncapped.stake > 5.0
    assert intent.size == 5.0
    assert "limited_by=stake_cap" in intent.reason


# -- with the engine's position view ------------------------------------------------------------


def _match(position: PositionView) -> MatchView:
    return MatchView("m1", "1.200", selections=(101, 202), position=position)


def _position(p1: SelectionPosition, p2: SelectionPosition | None = None) -> PositionView:
    return PositionView("1.200", (p1, p2 or SelectionPosition(202)), max_order_stake=50.0)


def test_nothing_when_the_risk_limits_leave_no_head_room_on_that_side():
    gate = _gate(0.60, 0.4975)
    full = _position(SelectionPosition(101, back_headroom=0.5, lay_headroom=150.0))

    intents = DivergenceStrategy(STAKING).on_prediction(
        _match(full), _prediction(0.6, gate), gate, _book()
    )

    assert intents == []


def test_the_kelly_stake_is_capped_at_the_head_room():
    gate = _gate(0.60, 0.4975)
    back_room = _position(SelectionPosition(101, back_headroom=7.0))
    lay_gate = _gate(0.40, 0.4975)
    lay_room = _position(SelectionPosition(101, lay_headroom=20.0))

    (back,) = DivergenceStrategy(STAKING).on_prediction(
        _match(back_room), _prediction(0.6, gate), gate, _book()
    )
    (lay,) = DivergenceStrategy(STAKING).on_prediction(
        _match(lay_room), _prediction(0.4, lay_gate), lay_gate, _book()
    )

    assert back.size == 7.0 and "action=add" in back.reason
    assert "limited_by=headroom" in back.reason
    assert lay.side is Side.LAY and lay.size == 19.6  # 20 / (2.02 − 1), floored to pennies
    assert lay.size * (lay.price - 1.0) <= 20.0


def test_no_second_order_at_a_price_where_one_already_waits():
    gate = _gate(0.60, 0.4975)
    waiting = SelectionPosition(101, resting=(RestingOrder(Side.BACK, 2.0, 10.0),))
    elsewhere = SelectionPosition(101, resting=(RestingOrder(Side.BACK, 2.1, 10.0),))

    stacked = DivergenceStrategy(STAKING).on_prediction(
        _match(_position(waiting)), _prediction(0.6, gate), gate, _book()
    )
    (other_price,) = DivergenceStrategy(STAKING).on_prediction(
        _match(_position(elsewhere)), _prediction(0.6, gate), gate, _book()
    )

    assert stacked == []
    assert other_price.price == 2.0


def test_a_reversed_edge_first_greens_up_the_position():
    gate = _gate(0.40, 0.4975)  # fair below the market: the edge says LAY player 1
    long_p1 = _position(
        SelectionPosition(101, pnl_if_wins=60.0, back_matched=40.0, lay_headroom=250.0),
        SelectionPosition(202, pnl_if_wins=-40.0),
    )

    (intent,) = DivergenceStrategy(STAKING).on_prediction(
        _match(long_p1), _prediction(0.4, gate), gate, _book()
    )

    assert intent.side is Side.LAY and intent.price == 2.02
    assert intent.size == 49.5  # (60 − (−40)) / 2.02, floored
    assert "action=trade_out" in intent.reason and "limited_by=green_up" in intent.reason
    if_wins, if_loses = 60.0 - intent.size * 1.02, -40.0 + intent.size
    assert abs(if_wins - if_loses) < 0.03  # the same P&L whoever wins


def test_resting_orders_on_the_way_out_count_toward_the_green_up():
    gate = _gate(0.60, 0.4975)  # fair above the market: BACK, against a short position
    short_p1 = _position(
        SelectionPosition(
            101,
            pnl_if_wins=-50.0,
            lay_matched=50.0,
            resting=(RestingOrder(Side.BACK, 2.2, 10.0),),
        ),
        SelectionPosition(202, pnl_if_wins=50.0),
    )

    (intent,) = DivergenceStrategy(STAKING).on_prediction(
        _match(short_p1), _prediction(0.6, gate), gate, _book()
    )

    assert intent.side is Side.BACK
    assert intent.size == 39.0  # (100 − 10 × 2.2) / 2.0
    assert "action=trade_out" in intent.reason


def test_no_trade_out_where_the_price_has_no_edge_left():
    gate = _gate(0.47, 0.50)  # open at the mid, but laying at 2.3 (0.435) has no edge
    long_p1 = _position(
        SelectionPosition(101, pnl_if_wins=60.0), SelectionPosition(202, pnl_if_wins=-40.0)
    )

    intents = DivergenceStrategy(STAKING).on_prediction(
        _match(long_p1), _prediction(0.47, gate), gate, _book(lay=(2.3, 300.0))
    )

    assert gate.open
    assert intents == []


def test_a_position_already_on_the_edges_side_is_added_to_by_kelly():
    gate = _gate(0.60, 0.4975)
    long_p1 = _position(
        SelectionPosition(101, pnl_if_wins=60.0, back_headroom=100.0),
        SelectionPosition(202, pnl_if_wins=-40.0),
    )
    dust = _position(  # an imbalance worth less than the minimum stake counts as flat
        SelectionPosition(101, pnl_if_wins=0.5), SelectionPosition(202, pnl_if_wins=-0.5)
    )

    (added,) = DivergenceStrategy(STAKING).on_prediction(
        _match(long_p1), _prediction(0.6, gate), gate, _book()
    )
    (from_flat,) = DivergenceStrategy(STAKING).on_prediction(
        _match(dust), _prediction(0.4, _gate(0.40, 0.4975)), _gate(0.40, 0.4975), _book()
    )

    kelly = size_order(Side.BACK, 2.0, 0.6, 0.05, STAKING, available_size=300.0, max_stake=50.0)
    assert added.side is Side.BACK and added.size == kelly.stake
    assert "action=add" in added.reason
    assert from_flat.side is Side.LAY and "action=add" in from_flat.reason


def test_with_a_real_risk_manager_the_strategy_asks_only_for_what_risk_accepts():
    positions = PositionBook()
    positions.describe_market("1.200", (101, 202), "m1")
    positions.add_fill("1.200", 101, Side.BACK, 2.0, 140.0)  # 140 lost if player 1 loses
    risk = RiskManager(RiskConfig(), StakingConfig(), positions, lambda: 0)
    market = MarketState("1.200", "OPEN", in_play=True, runner_ids=(101, 202), event_id="m1")
    view = build_position_view(
        "1.200", (101, 202), positions.markets["1.200"], (), risk.exposure_room(market)
    )
    gate = _gate(0.60, 0.4975)
    old = DivergenceStrategy(STAKING).on_prediction(MATCH, _prediction(0.6, gate), gate, _book())

    (intent,) = DivergenceStrategy(STAKING).on_prediction(
        _match(view), _prediction(0.6, gate), gate, _book()
    )

    def verdict(size: float):
        return risk.check(OrderRequest("1.200", 101, Side.BACK, 2.0, size, "r"), market)

    assert intent.size == 10.0  # the 150 selection limit leaves 10
    assert verdict(intent.size).accepted
    assert verdict(old[0].size or 0.0).reason is RejectReason.SELECTION_EXPOSURE
