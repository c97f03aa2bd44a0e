"""Matching rules of the simulator as functions over orders and one runner's ladders.

Columns: a BACK order takes from the offers to back ("B", `atb`) and rests among the offers to lay
("L", `atl`); a LAY order the other way round. Queue arithmetic is in queue.py.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from adapters.simexchange.config import CancelModel
from adapters.simexchange.orders import SIZE_EPS, SimOrder
from adapters.simexchange.queue import (
    ConsumedLiquidity,
    LevelKey,
    advance_on_cancel,
    advance_on_trade,
)
from engine.execution.types import ExchangeOrderStatus, Side
from engine.market import MarketBook, RunnerBook

PRICE_EPS = 1e-9


def crosses(side: Side, order_price: float, level_price: float) -> bool:
    """Would an order at `order_price` match an opposite offer at `level_price`?"""
    if side is Side.BACK:
        return level_price >= order_price - PRICE_EPS
    return level_price <= order_price + PRICE_EPS


def through(side: Side, order_price: float, trade_price: float) -> bool:
    """A trade at a price that would have had to take our resting order first."""
    if side is Side.BACK:
        return trade_price > order_price + PRICE_EPS
    return trade_price < order_price - PRICE_EPS


def displayed(runner: RunnerBook, column: str, price: float) -> float:
    """Size shown in a column ("B" = atb, "L" = atl) at one price."""
    ladder = runner.atl if column == "L" else runner.atb
    return ladder.size_at(price)


def take(
    order: SimOrder,
    runner: RunnerBook,
    liquidity: ConsumedLiquidity,
    *,
    maker: bool,
    now_ms: int,
) -> float:
    """Match against the opposite column, best prices first, net of consumed liquidity.

    A taker gets each level's price (Betfair gives the better price); a resting order that the
    book has crossed is the maker and fills at its own price. Returns the size matched.
    """
    ladder = runner.atb if order.side is Side.BACK else runner.atl
    column = "B" if order.side is Side.BACK else "L"
    matched_total = 0.0
    for level_price, shown in ladder.levels():
        if order.size_remaining <= SIZE_EPS or not crosses(order.side, order.price, level_price):
            break
        key: LevelKey = (order.market_id, order.selection_id, column, level_price)
        available = liquidity.available(key, shown)
        if available <= SIZE_EPS:
            continue
        matched = order.fill(order.price if maker else level_price, available, now_ms)
        liquidity.consume(key, matched)
        matched_total += matched
    return matched_total


def queue_ahead_on_arrival(
    order: SimOrder, runner: RunnerBook, resting: Iterable[SimOrder]
) -> float:
    """Displayed size at the order's price in its column plus our own earlier orders there."""
    own = sum(
        o.size_remaining
        for o in resting
        if o.selection_id == order.selection_id and o.side is order.side and o.price == order.price
    )
    return displayed(runner, order.column, order.price) + own


def apply_trades(
    resting: Iterable[SimOrder],
    traded: dict[tuple[int, float], float],
    *,
    queue_position: bool,
    now_ms: int,
    through_fills: bool = True,
) -> list[SimOrder]:
    """Advance queues by matched volume at each order's price; fill on trades through it.

    With `through_fills` off, a trade through the order's price only advances its queue like a
    trade at its price (flumine's rule), instead of proving the level was cleared.
    """
    changed: list[SimOrder] = []
    for order in resting:
        if order.status is not ExchangeOrderStatus.EXECUTABLE:
            continue
        for (selection_id, price), volume in traded.items():
            if selection_id != order.selection_id or order.size_remaining <= SIZE_EPS:
                continue
            is_through = through(order.side, order.price, price)
            if abs(price - order.price) < PRICE_EPS or (is_through and not through_fills):
                if queue_position:
                    order.ahead, reached = advance_on_trade(order.ahead, volume)
                else:
                    reached = volume
                if reached > 0 and order.fill(order.price, reached, now_ms) > 0:
                    changed.append(order)
            elif is_through:
                order.ahead = 0.0
                if order.fill(order.price, volume, now_ms) > 0:
                    changed.append(order)
    return changed


def apply_cancellations(
    resting: Iterable[SimOrder],
    level: tuple[int, str, float],
    *,
    displayed_before: float,
    cancelled: float,
    model: CancelModel,
    rng: random.Random,
) -> int:
    """Move queues forward for an unexplained decrease at (selection, column, price)."""
    selection_id, column, price = level
    touched = 0
    for order in resting:
        if (
            order.status is ExchangeOrderStatus.EXECUTABLE
            and order.selection_id == selection_id
            and order.column == column
            and abs(order.price - price) < PRICE_EPS
        ):
            touched += 1
            order.ahead = advance_on_cancel(order.ahead, displayed_before, cancelled, model, rng)
    return touched


def cap_queues(book: MarketBook, resting: Iterable[SimOrder]) -> None:
    """Nobody can be ahead of us beyond what is displayed (plus our own earlier orders)."""
    own_ahead: dict[tuple[int, str, float], float] = {}
    for order in resting:
        if order.status is not ExchangeOrderStatus.EXECUTABLE:
            continue
        runner = book.runner(order.selection_id, order.handicap)
        if runner is None:
            continue
        key = (order.selection_id, order.column, order.price)
        cap = displayed(runner, order.column, order.price) + own_ahead.get(key, 0.0)
        order.ahead = min(order.ahead, cap)
        own_ahead[key] = own_ahead.get(key, 0.0) + order.size_remaining


def cross_resting(
    book: MarketBook, resting: Iterable[SimOrder], liquidity: ConsumedLiquidity, now_ms: int
) -> list[SimOrder]:
    """Fill resting orders the book now crosses (the counterparties arrived at our price)."""
    changed: list[SimOrder] = []
    for order in resting:
        if order.status is not ExchangeOrderStatus.EXECUTABLE:
            continue
        runner = book.runner(order.selection_id, order.handicap)
        if runner is None:
            continue
        if take(order, runner, liquidity, maker=True, now_ms=now_ms) > 0:
            order.ahead = 0.0
            changed.append(order)
    return changed
