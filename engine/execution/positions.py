"""Positions and P&L per market from matched bets, with worst-case exposure.

A market's P&L depends only on which selection wins. With every bet folded in, it is
`base + delta[winner]`: `base` is the P&L if none of our selections wins (every back lost, every
lay won) and `delta[s]` is the extra when s wins (a back of stake z at odds o adds z·o; a lay
subtracts z·o). Adding a fill is O(1) and the worst case is a min over the runners.

Unmatched orders count at their worst: an unmatched back may still lose its stake, an unmatched lay
its liability, and neither is credited with winnings it has not yet secured. Commission
(`marketBaseRate`) is charged at settlement on the market's net winnings only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.execution.types import Side


@dataclass(slots=True)
class OutcomeBook:
    """P&L by winning selection: base + delta[winner]."""

    base: float = 0.0
    delta: dict[int, float] = field(default_factory=dict)
    base_by_selection: dict[int, float] = field(default_factory=dict)

    def _add(self, selection_id: int, base: float, delta: float) -> None:
        self.base += base
        self.base_by_selection[selection_id] = self.base_by_selection.get(selection_id, 0.0) + base
        self.delta[selection_id] = self.delta.get(selection_id, 0.0) + delta

    def add_matched(self, selection_id: int, side: Side, price: float, size: float) -> None:
        sign = 1.0 if side is Side.BACK else -1.0
        self._add(selection_id, -sign * size, sign * size * price)

    def add_unmatched_worst(self, selection_id: int, side: Side, price: float, size: float) -> None:
        """Only the losing half of an unmatched order (see module docstring)."""
        if side is Side.BACK:
            self._add(selection_id, -size, size)
        else:
            self._add(selection_id, 0.0, -size * (price - 1.0))

    def selection_worst_case(self, selection_id: int) -> float:
        """Worst-case loss of the bets on one selection alone (it wins or it loses)."""
        base = self.base_by_selection.get(selection_id, 0.0)
        return max(0.0, -min(base, base + self.delta.get(selection_id, 0.0)))

    def pnl_if(self, winner: int | None) -> float:
        """P&L if `winner` wins (None: a selection we have no bet on wins)."""
        if winner is None:
            return self.base
        return self.base + self.delta.get(winner, 0.0)

    def worst_case(self, runner_ids: Iterable[int] = ()) -> float:
        """Worst-case loss as a non-negative amount. With the runners unknown, "someone else
        wins" is one of the outcomes; with them known, only they can win."""
        runners = tuple(runner_ids)
        outcomes: list[float] = [self.pnl_if(r) for r in runners]
        if not runners:
            outcomes.append(self.base)
            outcomes.extend(self.base + d for d in self.delta.values())
        return max(0.0, -min(outcomes))

    def copy(self) -> OutcomeBook:
        return OutcomeBook(self.base, dict(self.delta), dict(self.base_by_selection))


@dataclass(frozen=True, slots=True)
class Settlement:
    """A settled market: gross P&L, commission charged, and net."""

    market_id: str
    winner: int | None
    gross: float
    commission: float

    @property
    def net(self) -> float:
        return self.gross - self.commission


def settle_outcomes(
    book: OutcomeBook, market_id: str, winner: int | None, commission_rate: float
) -> Settlement:
    """Commission on net market winnings: rate × max(0, gross)."""
    gross = book.pnl_if(winner)
    commission = round(max(0.0, gross) * commission_rate, 2)
    return Settlement(market_id, winner, round(gross, 2), commission)


@dataclass(slots=True)
class MarketPosition:
    """Matched bets of one market, with the traded amounts per selection."""

    market_id: str
    runner_ids: tuple[int, ...] = ()
    event_id: str = ""
    matched: OutcomeBook = field(default_factory=OutcomeBook)
    back_matched: dict[int, float] = field(default_factory=dict)
    lay_matched: dict[int, float] = field(default_factory=dict)

    def add_fill(self, selection_id: int, side: Side, price: float, size: float) -> None:
        self.matched.add_matched(selection_id, side, price, size)
        bucket = self.back_matched if side is Side.BACK else self.lay_matched
        bucket[selection_id] = bucket.get(selection_id, 0.0) + size

    def worst_case_loss(self) -> float:
        return self.matched.worst_case(self.runner_ids)

    def pnl_if(self, winner: int | None) -> float:
        return self.matched.pnl_if(winner)


class PositionBook:
    """All markets' positions plus realised P&L; fed with matched deltas by the order manager."""

    def __init__(self) -> None:
        self.markets: dict[str, MarketPosition] = {}
        self.settlements: list[Settlement] = []

    def market(self, market_id: str) -> MarketPosition:
        position = self.markets.get(market_id)
        if position is None:
            position = self.markets[market_id] = MarketPosition(market_id)
        return position

    def describe_market(self, market_id: str, runner_ids: Iterable[int], event_id: str) -> None:
        """Tell the book which runners exist (exposure is then exact) and which match it is."""
        position = self.market(market_id)
        position.runner_ids = tuple(runner_ids)
        position.event_id = event_id

    def add_fill(
        self, market_id: str, selection_id: int, side: Side, price: float, size: float
    ) -> None:
        if size > 0:
            self.market(market_id).add_fill(selection_id, side, price, size)

    def settle(self, market_id: str, winner: int | None, commission_rate: float) -> Settlement:
        position = self.markets.pop(market_id, None) or MarketPosition(market_id)
        settlement = settle_outcomes(position.matched, market_id, winner, commission_rate)
        self.settlements.append(settlement)
        return settlement

    def realised(self) -> float:
        return sum(s.net for s in self.settlements)
