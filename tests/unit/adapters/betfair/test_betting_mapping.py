"""Pure mapping of Betfair betting answers to outcomes (no transport)."""

import pytest

from adapters.betfair.betting import (
    BettingCallError,
    classify,
    parse_current_order,
    parse_place_reports,
    raise_for_api_error,
)
from engine.execution.types import ExchangeOrderStatus, FailureKind, OrderRequest, Outcome, Side

ORDERS = [
    OrderRequest("1.1", 1, Side.BACK, 2.0, 5.0, "a"),
    OrderRequest("1.1", 1, Side.LAY, 3.0, 5.0, "b"),
]


@pytest.mark.parametrize(
    ("code", "outcome", "kind"),
    [
        ("INSUFFICIENT_FUNDS", Outcome.REJECTED, FailureKind.INSUFFICIENT_FUNDS),
        ("MARKET_SUSPENDED", Outcome.REJECTED, FailureKind.MARKET_SUSPENDED),
        ("MARKET_NOT_OPEN_FOR_BETTING", Outcome.REJECTED, FailureKind.MARKET_CLOSED),
        ("BET_TAKEN_OR_LAPSED", Outcome.REJECTED, FailureKind.BET_ACTION_ERROR),
        ("INVALID_ODDS", Outcome.REJECTED, FailureKind.INVALID_ORDER),
        ("TOO_MANY_REQUESTS", Outcome.REJECTED, FailureKind.THROTTLED),
        ("INVALID_SESSION_INFORMATION", Outcome.REJECTED, FailureKind.AUTH),
        ("DUPLICATE_TRANSACTION", Outcome.UNKNOWN, FailureKind.DUPLICATE),
        ("TIMEOUT_ERROR", Outcome.UNKNOWN, FailureKind.TIMEOUT),
        ("ERROR_IN_MATCHER", Outcome.UNKNOWN, FailureKind.OTHER),
        ("SOMETHING_NEW", Outcome.UNKNOWN, FailureKind.OTHER),
    ],
)
def test_classify(code, outcome, kind):
    assert classify(code) == (outcome, kind)


def test_processed_with_errors_keeps_successful_instructions():
    result = {
        "status": "PROCESSED_WITH_ERRORS",
        "errorCode": "PROCESSED_WITH_ERRORS",
        "instructionReports": [
            {"status": "SUCCESS", "betId": "1", "orderStatus": "EXECUTABLE", "sizeMatched": 0},
            {"status": "FAILURE", "errorCode": "INVALID_BET_SIZE"},
        ],
    }
    ok, bad = parse_place_reports(result, ORDERS)
    assert (ok.outcome, ok.bet_id, ok.status) == (Outcome.DONE, "1", ExchangeOrderStatus.EXECUTABLE)
    assert (bad.outcome, bad.failure, bad.error_code) == (
        Outcome.REJECTED,
        FailureKind.INVALID_ORDER,
        "INVALID_BET_SIZE",
    )


def test_instruction_timeout_and_missing_reports_are_unknown():
    result = {"status": "SUCCESS", "instructionReports": [{"status": "TIMEOUT"}]}
    timeout, missing = parse_place_reports(result, ORDERS)
    assert (timeout.outcome, timeout.failure) == (Outcome.UNKNOWN, FailureKind.TIMEOUT)
    assert missing.outcome is Outcome.UNKNOWN
    assert parse_place_reports("garbage", ORDERS)[0].outcome is Outcome.UNKNOWN


def test_market_level_code_wins_over_error_in_order():
    result = {
        "status": "FAILURE",
        "errorCode": "MARKET_SUSPENDED",
        "instructionReports": [{"status": "FAILURE", "errorCode": "ERROR_IN_ORDER"}] * 2,
    }
    reports = parse_place_reports(result, ORDERS)
    assert {(r.outcome, r.failure) for r in reports} == {
        (Outcome.REJECTED, FailureKind.MARKET_SUSPENDED)
    }


def test_json_rpc_api_exception():
    body = {
        "jsonrpc": "2.0",
        "error": {
            "code": -32099,
            "message": "ANGX-0003",
            "data": {"APINGException": {"errorCode": "INVALID_APP_KEY"}, "exceptionname": "x"},
        },
        "id": 1,
    }
    with pytest.raises(BettingCallError) as caught:
        raise_for_api_error(body)
    assert (caught.value.outcome, caught.value.failure, caught.value.code) == (
        Outcome.REJECTED,
        FailureKind.AUTH,
        "INVALID_APP_KEY",
    )
    with pytest.raises(BettingCallError) as unreadable:
        raise_for_api_error([1, 2])
    assert unreadable.value.outcome is Outcome.UNKNOWN


def test_current_order_parsing_and_malformed_rows():
    item = {
        "betId": "9",
        "marketId": "1.1",
        "selectionId": 7,
        "side": "LAY",
        "priceSize": {"price": 3.0, "size": 4.0},
        "status": "EXECUTABLE",
        "persistenceType": "PERSIST",
        "sizeMatched": 1.0,
        "sizeRemaining": 3.0,
        "averagePriceMatched": 3.0,
        "customerOrderRef": "cs-x",
        "placedDate": "2018-07-09T18:00:00.000Z",
    }
    order = parse_current_order(item)
    assert (order.side, order.size_remaining, order.customer_order_ref) == (Side.LAY, 3.0, "cs-x")
    assert order.placed_ms == 1531159200000
    with pytest.raises(KeyError):
        parse_current_order({"betId": "1"})
