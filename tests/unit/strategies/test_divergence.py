"""Divergence strategy: trades only on an open gate, on the right side, staked by Kelly."""

import pytest

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.staking import size_order
from engine.gate import GateConfig, GateInputs, GateState, evaluate
from engine.prediction import PredictionRecord
from engine.strategy import BookView, MatchView, OrderIntent, RunnerQuote, Side, Strategy
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
