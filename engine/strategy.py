"""The strategy API: how trading logic plugs into the engine (DESIGN.md §2).

A strategy is called once per prediction (one per point per tradable match) with read-only views
and returns order intents; it never talks to the exchange. The engine passes every intent through
staking (when `size` is None), the risk limits and the order manager, so a strategy cannot bypass
a limit or the kill switch. Strategies live in `strategies/` and import from here; the engine never
imports them.

`match.position` (a `PositionView`, None when no order manager is attached, e.g. shadow replay)
is the market's position as the risk limits see it when the strategy is called: matched P&L if
each selection wins, matched and resting stakes, and the head-room left under every risk limit.
Sizing within `position.max_stake(...)` means the risk check will not refuse the order for its
size. An order against a held position lowers the worst case, so its side has more head-room
than the same order on a flat book: strategies can trade out (green up, cut) within it.

Writing one::

    class MyStrategy:
        name = "mine"

        def on_prediction(self, match, prediction, gate, book):
            p1 = book.runner(match.selections[0])
            if not gate.open or p1 is None or p1.back_price is None:
                return []
            stake = 10.0
            if match.position is not None:
                if match.position.selection(p1.selection_id).is_resting_at(
                    Side.BACK, p1.back_price
                ):
                    return []  # already waiting at that price: do not stack
                room = match.position.max_stake(p1.selection_id, Side.BACK, p1.back_price)
                stake = math.floor(min(stake, room) * 100) / 100
            if stake < 1.0:
                return []  # no head-room left (below the £1 minimum stake)
            return [OrderIntent(match.market_id, p1.selection_id, Side.BACK, p1.back_price,
                                stake, prediction.fair_prob, "my reason")]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine.execution.types import Side
from engine.gate.decide import GateDecision
from engine.market.book import MarketBook
from engine.market.ticks import is_on_ladder
from engine.prediction import PredictionRecord

__all__ = [
    "BookView",
    "MatchView",
    "OrderIntent",
    "PositionView",
    "RestingOrder",
    "RunnerQuote",
    "SelectionPosition",
    "Side",
    "Strategy",
]


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
class RestingOrder:
    """The unmatched remainder of one of our orders: `size` is the backer's stake still waiting."""

    side: Side
    price: float
    size: float


@dataclass(frozen=True, slots=True)
class SelectionPosition:
    """Our position on one selection of the market. Money in account currency, before commission.

    pnl_if_wins: the market's matched P&L if this selection wins (all our matched bets on every
    selection); worst_if_wins: the same with every resting order counted at its worst (as the risk
    check counts it). back_matched / lay_matched: matched backer's stake per side. resting: our
    unmatched orders on it. back_headroom / lay_headroom: the largest liability (stake for a back,
    (price − 1) × stake for a lay) of one more order on this selection that the risk check accepts
    right now — per-selection, per-match and total exposure, the per-order liability cap (and
    for a back the per-order stake cap), and 0 while the kill switch, market status, daily loss or
    order-rate rule refuses everything. (The defaults, no limit, are for hand-made views.)
    """

    selection_id: int
    pnl_if_wins: float = 0.0
    worst_if_wins: float = 0.0
    back_matched: float = 0.0
    lay_matched: float = 0.0
    resting: tuple[RestingOrder, ...] = ()
    back_headroom: float = math.inf
    lay_headroom: float = math.inf

    @property
    def resting_back(self) -> float:
        """Backer's stake of our unmatched backs on this selection."""
        return sum(o.size for o in self.resting if o.side is Side.BACK)

    @property
    def resting_lay(self) -> float:
        """Backer's stake of our unmatched lays on this selection."""
        return sum(o.size for o in self.resting if o.side is Side.LAY)

    def headroom(self, side: Side) -> float:
        return self.back_headroom if side is Side.BACK else self.lay_headroom

    def is_resting_at(self, side: Side, price: float) -> bool:
        """Whether an order of ours already waits on this side at this price."""
        return any(o.side is side and abs(o.price - price) < 1e-9 for o in self.resting)


@dataclass(frozen=True, slots=True)
class PositionView:
    """Our position on one market and the risk head-room left, when the strategy is called.

    worst_case_loss: the market's worst-case loss counting resting orders at their worst (what the
    exposure limits measure). max_order_stake: the per-order stake cap. blocked: the risk rule that
    refuses every order now ("" when none). Orders returned in this same call are not in it yet
    (nor, for an instant, ones whose submission is still scheduled); the risk check still applies.
    """

    market_id: str
    selections: tuple[SelectionPosition, ...] = ()
    worst_case_loss: float = 0.0
    max_order_stake: float = math.inf
    blocked: str = ""

    def selection(self, selection_id: int) -> SelectionPosition:
        """The position on `selection_id`; the view covers every runner of the market, so any
        other id gets an empty position with no head-room."""
        for position in self.selections:
            if position.selection_id == selection_id:
                return position
        return SelectionPosition(selection_id, back_headroom=0.0, lay_headroom=0.0)

    def max_stake(self, selection_id: int, side: Side, price: float) -> float:
        """The largest backer's stake at `price` the risk check accepts (not floored to pennies;
        below the exchange minimum stake it means "no room")."""
        if not price > 1.0:
            return 0.0
        headroom = self.selection(selection_id).headroom(side)
        stake = headroom if side is Side.BACK else headroom / (price - 1.0)
        return max(0.0, min(stake, self.max_order_stake))


class MatchView:
    """The followed match: its market, the selection ids of feed player 1 and player 2, the score
    ("sets games points" from player 1's side) and our position (None: no execution attached).

    `position` is built on first read: the engine hands over a `position_source` instead of a
    finished view because building one walks the risk limits and the open orders (tens of µs on
    the point path) and most predictions — every one behind a shut gate — never look at it.
    Read-only, like the other views.
    """

    __slots__ = ("_position", "_position_source", "market_id", "match_id", "score", "selections")

    match_id: str
    market_id: str
    selections: tuple[int, int]
    score: str
    _position: PositionView | None
    _position_source: Callable[[], PositionView | None] | None

    def __init__(
        self,
        match_id: str,
        market_id: str,
        selections: tuple[int, int],
        score: str = "",
        position: PositionView | None = None,
        *,
        position_source: Callable[[], PositionView | None] | None = None,
    ) -> None:
        if position is not None and position_source is not None:
            raise ValueError("position: give a view or a source, not both")
        setter = object.__setattr__
        setter(self, "match_id", match_id)
        setter(self, "market_id", market_id)
        setter(self, "selections", selections)
        setter(self, "score", score)
        setter(self, "_position", position)
        setter(self, "_position_source", position_source)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"MatchView is read-only: cannot set {name!r}")

    @property
    def position(self) -> PositionView | None:
        source = self._position_source
        if source is not None:  # first read: build once, then keep it
            object.__setattr__(self, "_position", source())
            object.__setattr__(self, "_position_source", None)
        return self._position

    def __repr__(self) -> str:
        return (
            f"MatchView(match_id={self.match_id!r}, market_id={self.market_id!r}, "
            f"selections={self.selections!r}, score={self.score!r})"
        )


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy wants: the engine sizes (size None = "size me": fractional Kelly from
    `p_win`, capped at the risk head-room), checks risk, and places. price must be on the Betfair
    tick ladder."""

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
    """Trading logic: pure with respect to the engine (reads views, returns intents).

    The daemon also builds an instance per rehearsal pass (engine/core/rehearsal.py) and feeds
    it recorded points whose intents are dropped, so a strategy must act only through what it
    returns."""

    name: str

    def on_prediction(
        self,
        match: MatchView,
        prediction: PredictionRecord,
        gate: GateDecision,
        book: BookView,
    ) -> list[OrderIntent]: ...
