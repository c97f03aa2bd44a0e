"""The strategy API: how trading logic plugs into the engine (DESIGN.md §2).

A strategy is called once per prediction (one per point per tradable match) with read-only views
and returns order intents; it never talks to the exchange. The engine passes every intent through
staking (when `size` is None), the risk limits and the order manager, so a strategy cannot bypass
a limit or the kill switch. Strategies live in `strategies/` and import from here; the engine never
imports them.

Writing one::

    class MyStrategy:
        name = "mine"

        def on_prediction(self, match, prediction, gate, book):
            if not gate.open:
                return []
            p1 = book.runner(match.selections[0])
            ...
            return [OrderIntent(match.market_id, p1.selection_id, Side.BACK, p1.back_price,
                                None, prediction.fair_prob, "my reason")]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.execution.types import Side
from engine.gate.decide import GateDecision
from engine.market.book import MarketBook
from engine.market.ticks import is_on_ladder
from engine.prediction import PredictionRecord

__all__ = ["BookView", "MatchView", "OrderIntent", "RunnerQuote", "Side", "Strategy"]


@dataclass(frozen=True, slots=True)
class RunnerQuote:
    """Top of one runner's book. back_*: the best price a backer can take now (Betfair's
    "available to back"); lay_*: the best price a layer can take now. Sizes in £ (backer's
    stake); prices None when that side is empty."""

    selection_id: int
    back_price: float | None
    back_size: float
    lay_price: float | None
    lay_size: float


@dataclass(frozen=True, slots=True)
class BookView:
    """The market as a strategy sees it. commission: marketBaseRate as a fraction (0.05 = 5%)."""

    market_id: str
    commission: float
    in_play: bool
    runners: tuple[RunnerQuote, ...]

    def runner(self, selection_id: int) -> RunnerQuote | None:
        for quote in self.runners:
            if quote.selection_id == selection_id:
                return quote
        return None

    @classmethod
    def from_market(cls, book: MarketBook) -> BookView:
        """Snapshot the top of a cached market (the cache mutates in place; this does not)."""
        quotes = []
        for runner in book:
            back, lay = runner.best_back(), runner.best_lay()
            quotes.append(
                RunnerQuote(
                    runner.selection_id,
                    back[0] if back is not None else None,
                    back[1] if back is not None else 0.0,
                    lay[0] if lay is not None else None,
                    lay[1] if lay is not None else 0.0,
                )
            )
        rate = book.market_base_rate
        return cls(
            book.market_id,
            (rate if rate is not None else 0.0) / 100.0,
            bool(book.inplay),
            tuple(quotes),
        )


@dataclass(frozen=True, slots=True)
class MatchView:
    """The followed match: its market and the selection ids of feed player 1 and player 2."""

    match_id: str
    market_id: str
    selections: tuple[int, int]
    score: str = ""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy wants: the engine sizes (size None = "size me" with fractional Kelly from
    `p_win`), checks risk, and places. price must be on the Betfair tick ladder."""

    market_id: str
    selection_id: int
    side: Side
    price: float
    size: float | None
    p_win: float
    reason: str
    strategy: str = ""

    def __post_init__(self) -> None:
        if not is_on_ladder(self.price):
            raise ValueError(f"price: {self.price!r} is not on the Betfair tick ladder")
        if self.size is not None and not self.size > 0.0:
            raise ValueError(f"size: must be positive or None, got {self.size!r}")
        if not 0.0 <= self.p_win <= 1.0:
            raise ValueError(f"p_win: must be a probability, got {self.p_win!r}")


class Strategy(Protocol):
    """Trading logic: pure with respect to the engine (reads views, returns intents)."""

    name: str

    def on_prediction(
        self,
        match: MatchView,
        prediction: PredictionRecord,
        gate: GateDecision,
        book: BookView,
    ) -> list[OrderIntent]: ...
