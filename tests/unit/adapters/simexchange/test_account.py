"""Simulator account rules: validation errors, funds, duplicates, settlement and commission."""

import pytest

from adapters.simexchange.exchange import SimApiError
from adapters.simexchange.synthetic import market_definition, runner_change

MARKET = "1.500"


@pytest.mark.parametrize(
    ("price", "size", "code"),
    [(2.03, 10, "INVALID_ODDS"), (2.0, 0.5, "INVALID_BET_SIZE"), (2.0, 10.001, "INVALID_BET_SIZE")],
)
def test_invalid_instructions_are_bet_action_errors(harness, price, size, code):
    answer = harness.place("BACK", price, size)
    assert answer["status"] == "FAILURE"
    assert answer["errorCode"] == "BET_ACTION_ERROR"
    assert answer["instructionReports"][0]["errorCode"] == code
    assert not harness.sim.orders


def test_small_stake_allowed_by_minimum_payout(harness):
    assert harness.place("BACK", 30.0, 0.5)["status"] == "SUCCESS"  # payout 15 >= 10


def test_unknown_runner_and_market(harness):
    assert harness.place("BACK", 2.0, 10, selection=99)["instructionReports"][0]["errorCode"] == (
        "INVALID_RUNNER"
    )
    answer = harness.sim.place_orders({"marketId": "1.999", "instructions": [{"x": 1}]})
    assert answer["errorCode"] == "INVALID_MARKET_ID"
    with pytest.raises(SimApiError):
        harness.sim.place_orders({"marketId": MARKET, "instructions": []})


def test_insufficient_funds(make_harness):
    h = make_harness(starting_balance=20.0)
    h.open_market()
    assert h.place("LAY", 1.5, 30)["status"] == "SUCCESS"  # liability 15 if 11 wins
    answer = h.place("BACK", 2.5, 10, selection=22)  # -10 more if 11 wins: 25 > 20
    assert answer["errorCode"] == "INSUFFICIENT_FUNDS"
    assert h.place("BACK", 2.5, 5, selection=22)["status"] == "SUCCESS"


def test_duplicate_customer_ref_within_window(harness):
    assert harness.place("BACK", 2.1, 10, customer_ref="abc")["status"] == "SUCCESS"
    assert (
        harness.place("BACK", 2.1, 10, customer_ref="abc")["errorCode"] == "DUPLICATE_TRANSACTION"
    )
    harness.clock.advance(61_000)
    assert harness.place("BACK", 2.1, 10, customer_ref="abc")["status"] == "SUCCESS"


def test_settlement_with_commission_on_net_winnings(harness):
    back = harness.placed("BACK", 2.0, 10)  # on 11 at 2.00
    lay = harness.placed("LAY", 2.0, 5, selection=22)  # lay 22 at 2.00 (lay offers at 2.00)
    assert back.size_matched == 10 and lay.size_matched == 5
    harness.feed(definition=market_definition((11, 22), status="CLOSED", winner=11))
    bets = {b.order.bet_id: b.profit for b in harness.sim.settled[MARKET]}
    assert bets == {back.bet_id: 10.0, lay.bet_id: 5.0}
    # net market winnings 15, commission 5% of it
    assert harness.sim.commission_paid == pytest.approx(0.75)
    assert harness.sim.balance == pytest.approx(10000 + 15 - 0.75)
    cleared = harness.sim.list_cleared_orders({"marketIds": [MARKET]})["clearedOrders"]
    assert sorted(c["profit"] for c in cleared) == [5.0, 10.0]
    assert harness.sim.list_current_orders({"marketIds": [MARKET]})["currentOrders"] == []


def test_losing_market_pays_no_commission_and_lapses_unmatched(harness):
    back = harness.placed("BACK", 2.0, 10)
    resting = harness.placed("BACK", 3.0, 10)
    harness.feed(definition=market_definition((11, 22), status="CLOSED", winner=22))
    assert harness.sim.commission_paid == 0
    assert harness.sim.balance == pytest.approx(10000 - 10)
    assert resting.size_lapsed == 10
    assert back.size_matched == 10


def test_list_current_orders_filters_and_pages(harness):
    for i in range(5):
        harness.placed("BACK", 2.2, 2, ref=f"r{i}")
    page = harness.sim.list_current_orders({"recordCount": 2, "fromRecord": 0})
    assert len(page["currentOrders"]) == 2 and page["moreAvailable"]
    by_ref = harness.sim.list_current_orders({"customerOrderRefs": ["r3"]})["currentOrders"]
    assert [o["customerOrderRef"] for o in by_ref] == ["r3"]
    harness.feed(runner_change(11, trd=[(2.2, 1)]))
    assert harness.sim.drain_changes()
