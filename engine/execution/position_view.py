"""The strategy's view of its position: built from the positions and the risk manager's room.

Pure: everything comes in as arguments (the matched position, the live unmatched remainders, the
`ExposureRoom` the risk manager computed), so the view can be tested on hand-made books and the
head-room it reports is, by construction, `risk.liability_headroom` — the inverse of the same
exposure rules `RiskManager.check` applies, on the same outcome book.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.execution.positions import MarketPosition
from engine.execution.risk import ExposureRoom, OpenOrder, liability_headroom
from engine.execution.types import Side
from engine.strategy import PositionView, RestingOrder, SelectionPosition


def build_position_view(
    market_id: str,
    selection_ids: Sequence[int],
    position: MarketPosition | None,
    open_orders: Iterable[OpenOrder],
    room: ExposureRoom,
) -> PositionView:
    """One `SelectionPosition` per id in `selection_ids` (the market's runners), in that order."""
    resting: dict[int, list[RestingOrder]] = {s: [] for s in selection_ids}
    for order in open_orders:
        if order.market_id == market_id and order.selection_id in resting:
            resting[order.selection_id].append(
                RestingOrder(order.side, order.price, order.remaining)
            )
    selections = tuple(
        SelectionPosition(
            selection_id=s,
            pnl_if_wins=position.pnl_if(s) if position is not None else 0.0,
            worst_if_wins=room.book.pnl_if(s),
            back_matched=position.back_matched.get(s, 0.0) if position is not None else 0.0,
            lay_matched=position.lay_matched.get(s, 0.0) if position is not None else 0.0,
            resting=tuple(resting[s]),
            back_headroom=liability_headroom(room, s, Side.BACK),
            lay_headroom=liability_headroom(room, s, Side.LAY),
        )
        for s in selection_ids
    )
    return PositionView(
        market_id=market_id,
        selections=selections,
        worst_case_loss=room.book.worst_case(room.runner_ids),
        max_order_stake=room.order_stake_limit,
        blocked=str(room.blocked) if room.blocked is not None else "",
    )
