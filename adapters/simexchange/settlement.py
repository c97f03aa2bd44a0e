"""Settling a closed market in the simulator: per-bet profit and the market's commission."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adapters.simexchange.orders import SIZE_EPS, SimOrder
from engine.execution.positions import OutcomeBook, Settlement, settle_outcomes
from engine.execution.types import Side


@dataclass(frozen=True, slots=True)
class SettledBet:
    """One bet's settlement (a listClearedOrders line); profit before commission."""

    order: SimOrder
    profit: float
    outcome: str
    settled_ms: int


def bet_profit(order: SimOrder, winner: int | None) -> float:
    """A matched bet's profit at its average matched price."""
    avg, size = order.average_price_matched, order.size_matched
    won = order.selection_id == winner
    if order.side is Side.BACK:
        return size * (avg - 1.0) if won else -size
    return -size * (avg - 1.0) if won else size


def settle_orders(
    market_id: str,
    orders: Iterable[SimOrder],
    winner: int | None,
    commission_rate: float,
    now_ms: int,
) -> tuple[list[SettledBet], Settlement]:
    """Per-bet results and the market settlement (commission on net market winnings)."""
    outcomes = OutcomeBook()
    bets: list[SettledBet] = []
    for order in orders:
        if order.size_matched <= SIZE_EPS:
            continue
        outcomes.add_matched(
            order.selection_id, order.side, order.average_price_matched, order.size_matched
        )
        profit = round(bet_profit(order, winner), 2)
        bets.append(SettledBet(order, profit, "WIN" if profit > 0 else "LOSE", now_ms))
    return bets, settle_outcomes(outcomes, market_id, winner, commission_rate)
