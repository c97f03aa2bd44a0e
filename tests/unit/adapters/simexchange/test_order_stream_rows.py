"""The simulator's order-stream rows read back exactly like its listCurrentOrders answers, and
its order-subscription image covers every live order."""

from adapters.betfair.betting import parse_current_order
from adapters.simexchange.synthetic import runner_change
from adapters.simexchange.wire import order_stream_changes
from engine.execution.order_stream import read_order_changes
from engine.execution.types import Persistence


def test_simulator_rows_read_back_like_list_current_orders(harness):
    resting = harness.placed("LAY", 1.9, 10, persistence="PERSIST", ref="cs-a")
    partly = harness.placed("BACK", 2.0, 150, ref="cs-b")  # 100 matched, 50 resting
    harness.feed(runner_change(11, trd=[(1.9, 4)]))
    stream = read_order_changes(order_stream_changes([resting, partly], full_image=True)).orders
    listed = [parse_current_order(o.current_order_json()) for o in (resting, partly)]
    assert stream == listed
    assert stream[0].persistence is Persistence.PERSIST
    assert stream[1].size_matched == 100


def test_order_image_and_deltas(harness):
    harness.placed("BACK", 2.2, 5, ref="x")
    harness.sim.drain_changes()
    image = read_order_changes(harness.sim.order_stream_image()).orders
    assert [o.customer_order_ref for o in image] == ["x"]
    assert harness.sim.drain_order_stream_changes() == []
    harness.feed(runner_change(11, trd=[(2.3, 4)]))  # a trade through 2.2: filled
    [delta] = read_order_changes(harness.sim.drain_order_stream_changes()).orders
    assert delta.size_matched == 2
