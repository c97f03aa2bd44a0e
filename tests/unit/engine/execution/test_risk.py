"""Every pre-trade rule, the counters, and the kill switch."""

import pytest

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.positions import PositionBook
from engine.execution.risk import MS_PER_DAY, OpenOrder, RejectReason, RiskManager
from engine.execution.types import MarketState, OrderRequest, Side

T0 = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def make(config: RiskConfig | None = None, open_orders: list[OpenOrder] | None = None):
    clock = Clock()
    positions = PositionBook()
    orders = open_orders if open_orders is not None else []
    risk = RiskManager(config or RiskConfig(), StakingConfig(), positions, clock, lambda: orders)
    return risk, positions, clock, orders


def order(
    size: float = 10.0,
    price: float = 2.0,
    side: Side = Side.BACK,
    market: str = "1.1",
    selection: int = 1,
) -> OrderRequest:
    return OrderRequest(market, selection, side, price, size, "ref")


OPEN = MarketState("1.1", "OPEN", in_play=True, runner_ids=(1, 2), event_id="e1")


def test_a_plain_order_is_accepted():
    risk, *_ = make()
    assert risk.check(order(), OPEN).accepted


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (order(size=0.0), RejectReason.INVALID_SIZE),
        (order(size=float("nan")), RejectReason.INVALID_SIZE),
        (order(size=1.005), RejectReason.INVALID_SIZE),
        (order(price=2.03), RejectReason.PRICE_NOT_ON_LADDER),
        (order(price=1.0), RejectReason.PRICE_NOT_ON_LADDER),
        (order(price=float("inf")), RejectReason.PRICE_NOT_ON_LADDER),
        (order(size=0.5), RejectReason.BELOW_MIN_STAKE),
        (order(size=60.0), RejectReason.ORDER_STAKE),
        (order(size=30.0, price=5.0, side=Side.LAY), RejectReason.ORDER_LIABILITY),
    ],
)
def test_per_order_rules(request_, reason):
    risk, *_ = make()
    verdict = risk.check(request_, OPEN)
    assert verdict.reason is reason
    assert risk.rejections[reason] == 1


def test_on_ladder_prices_pass_in_every_band():
    risk, *_ = make(RiskConfig(max_orders_per_window=100))
    for price in (1.01, 1.99, 2.02, 3.05, 4.1, 6.2, 10.5, 21.0, 32.0, 55.0, 110.0):
        assert risk.check(order(size=2.0, price=price), OPEN).accepted, price


def test_market_must_be_open_and_in_the_expected_in_play_state():
    risk, *_ = make()
    suspended = MarketState("1.1", "SUSPENDED", in_play=True)
    assert risk.check(order(), suspended).reason is RejectReason.MARKET_NOT_OPEN
    pre_play = MarketState("1.1", "OPEN", in_play=False)
    assert risk.check(order(), pre_play, expect_in_play=True).reason is RejectReason.INPLAY_STATE
    assert risk.check(order(), OPEN, expect_in_play=True).accepted


def test_selection_exposure_counts_matched_and_open_orders():
    config = RiskConfig(max_selection_exposure=30.0)
    risk, positions, _, orders = make(config)
    positions.add_fill("1.1", 1, Side.BACK, 2.0, 15.0)
    orders.append(OpenOrder("1.1", 1, Side.BACK, 2.0, 10.0))
    assert risk.check(order(size=5.0), OPEN).accepted  # 15 + 10 + 5 = 30
    verdict = risk.check(order(size=6.0), OPEN)  # 31
    assert verdict.reason is RejectReason.SELECTION_EXPOSURE


def test_a_hedge_fits_where_a_same_direction_order_does_not():
    config = RiskConfig(max_selection_exposure=20.0, max_match_exposure=20.0)
    risk, positions, *_ = make(config)
    positions.describe_market("1.1", (1, 2), "e1")
    positions.add_fill("1.1", 1, Side.BACK, 3.0, 20.0)  # +40 if 1 wins, -20 if it loses
    # lay 10 @ 2.5 at its worst: -15 if 1 wins (40 - 15 = 25), 0 if it loses (still -20)
    assert risk.check(order(size=10.0, price=2.5, side=Side.LAY), OPEN).accepted
    verdict = risk.check(order(size=1.0, price=3.0), OPEN)  # another back: -21 if 1 loses
    assert verdict.reason is RejectReason.SELECTION_EXPOSURE


def test_match_exposure_sums_markets_of_one_event():
    config = RiskConfig(max_match_exposure=25.0, max_total_exposure=1000.0)
    risk, positions, *_ = make(config)
    positions.describe_market("1.2", (5, 6), "e1")  # another market of the same match
    positions.add_fill("1.2", 5, Side.BACK, 2.0, 20.0)
    assert risk.check(order(size=5.0), OPEN).accepted
    assert risk.check(order(size=6.0), OPEN).reason is RejectReason.MATCH_EXPOSURE
    other_event = MarketState("1.9", "OPEN", runner_ids=(1, 2), event_id="e2")
    assert risk.check(order(size=6.0, market="1.9"), other_event).accepted


def test_total_exposure_sums_every_market():
    config = RiskConfig(max_total_exposure=30.0)
    risk, positions, *_ = make(config)
    positions.describe_market("1.7", (7, 8), "e7")
    positions.add_fill("1.7", 7, Side.BACK, 2.0, 25.0)
    assert risk.check(order(size=5.0), OPEN).accepted
    assert risk.check(order(size=6.0), OPEN).reason is RejectReason.TOTAL_EXPOSURE


def test_daily_loss_limit_resets_next_utc_day():
    risk, _, clock, _ = make(RiskConfig(daily_loss_limit=100.0))
    risk.record_realised(-60.0)
    assert risk.check(order(), OPEN).accepted
    risk.record_realised(-40.0)
    assert risk.check(order(), OPEN).reason is RejectReason.DAILY_LOSS
    clock.now += MS_PER_DAY
    assert risk.check(order(), OPEN).accepted


def test_order_rate_limit_over_a_sliding_window():
    risk, _, clock, _ = make(RiskConfig(max_orders_per_window=3, order_window_s=10.0))
    for _ in range(3):
        assert risk.check(order(), OPEN).accepted
    assert risk.check(order(), OPEN).reason is RejectReason.ORDER_RATE
    clock.now += 10_001
    assert risk.check(order(), OPEN).accepted
    assert risk.rejections[RejectReason.ORDER_RATE] == 1


def test_rejected_orders_do_not_use_up_the_rate_limit():
    risk, *_ = make(RiskConfig(max_orders_per_window=1))
    assert risk.check(order(size=99.0), OPEN).reason is RejectReason.ORDER_STAKE
    assert risk.check(order(), OPEN).accepted


def test_kill_switch_blocks_everything_until_reset():
    risk, _, clock, _ = make()
    risk.kill_switch.engage("operator", clock())
    verdict = risk.check(order(), OPEN)
    assert verdict.reason is RejectReason.KILL_SWITCH
    assert verdict.detail == "operator"
    risk.kill_switch.reset()
    assert risk.check(order(), OPEN).accepted
