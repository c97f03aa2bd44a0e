"""Order-stream (ocm) rows as CurrentOrders: the real ORDER file and malformed input."""

import orjson

from engine.execution.order_stream import read_order_changes
from engine.execution.types import ExchangeOrderStatus, Side


def test_real_order_stream_file(shared_data):
    path = shared_data / "betfair/historical/ORDER-1.177596575"
    messages = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    results = [read_order_changes(m.get("oc", [])) for m in messages if m.get("op") == "ocm"]
    orders = [o for r in results for o in r.orders]
    assert sum(r.malformed for r in results) == 0
    first = orders[0]
    assert (first.bet_id, first.market_id, first.selection_id) == (
        "221073337451",
        "1.177596575",
        38077860,
    )
    assert (first.side, first.price, first.size, first.status) == (
        Side.BACK,
        34.0,
        0.8,
        ExchangeOrderStatus.EXECUTABLE,
    )
    assert first.customer_order_ref == "34rtr9df-13845490"
    cancelled = orders[1]
    assert (cancelled.status, cancelled.size_cancelled, cancelled.size_remaining) == (
        ExchangeOrderStatus.EXECUTION_COMPLETE,
        0.8,
        0.0,
    )
    assert ["1.177596575"] in [r.closed_markets for r in results]


def test_malformed_rows_are_counted_not_raised():
    result = read_order_changes(
        [
            {"id": "1.1", "orc": [{"id": 5, "uo": [{"id": "1", "side": "X"}, {"p": 2}]}]},
            {"no": "id"},
            {"id": "1.2", "orc": [{"uo": []}]},
        ]
    )
    assert result.orders == []
    assert result.malformed == 4
