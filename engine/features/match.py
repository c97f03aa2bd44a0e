"""Per-match feature state: turns the stream of a match's events into tokens with the timing
contract below, so that the aligner (training) and the engine build identical sequences.

Timing contract (one token per point, built when the point ENDS):
- score: the score after the point, i.e. the state the next point is played from (ScoreInputs);
- counters: include the point just played;
- fair: the physics price after the point; prev_fair: the one after the previous point (on a
  match's first point: the price at 0-0, when `on_match_open` gave it);
- book: the order book as last seen BEFORE the point ended; prev_book: the previous token's book;
- residual: the previous token's market label − the previous token's fair price (on a match's
  first point: the market before it − the price at 0-0, when `on_match_open` gave both; else 0);
- pts_since_mto: 0 for the first point played after an MTO, 1 for the next, … (capped at 99);
- label (not in the token): the market probability once the market has reacted to the point.
So a token never contains its own label; the emulator predicts the market's reaction to a point.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.features.builders import FloatArray, fill_token, token_row
from engine.features.inputs import (
    BookSummary,
    MatchCounters,
    ScoreInputs,
    update_counters,
)
from engine.features.schema import VARIANT_FULL


@dataclass(frozen=True, slots=True)
class PointEnded:
    """What is known when a point ends."""

    server: int
    winner: int
    score_after: ScoreInputs
    fair_prob: float
    fair_if_p1_wins: float
    fair_if_p1_loses: float
    book: BookSummary | None = None
    serve_no: int | None = None
    ace: bool = False
    double_fault: bool = False


class MatchFeatures:
    """Mutable per-match state; one instance per followed match (not thread-safe). `changes`
    counts the mutations, so a token built ahead from a copy can tell it is still current."""

    __slots__ = (
        "_mto_index",
        "_prev_book",
        "_prev_fair",
        "_prev_market",
        "changes",
        "counters",
        "variant",
    )

    def __init__(self, variant: str = VARIANT_FULL) -> None:
        self.variant = variant
        self.counters = MatchCounters()
        self._prev_book: BookSummary | None = None
        self._prev_fair: float | None = None
        self._prev_market: float | None = None
        self._mto_index: int | None = None
        self.changes = 0

    def copy(self) -> MatchFeatures:
        """An independent copy (the fields it shares are immutable)."""
        twin = MatchFeatures.__new__(MatchFeatures)
        twin.variant = self.variant
        twin.counters = self.counters
        twin._prev_book = self._prev_book
        twin._prev_fair = self._prev_fair
        twin._prev_market = self._prev_market
        twin._mto_index = self._mto_index
        twin.changes = self.changes
        return twin

    def on_match_open(self, fair_prob: float, market_prob: float | None) -> None:
        """Before a match's first point: the physics price at 0-0 and the market's probability
        before the point (None without a price). They play the previous point's fair price and
        label for the first token, so its fair_delta is the first point's move and its residual
        where the market opened against the physics price — what Emu-lite, which sees no book,
        otherwise cannot know on a first point."""
        if self.counters.points_played:
            raise ValueError("on_match_open: the match already has points")
        if not 0.0 <= fair_prob <= 1.0:
            raise ValueError(f"fair_prob: must be a probability, got {fair_prob!r}")
        if market_prob is not None and not 0.0 <= market_prob <= 1.0:
            raise ValueError(f"market_prob: must be a probability, got {market_prob!r}")
        self._prev_fair = fair_prob
        self._prev_market = market_prob
        self.changes += 1

    def on_mto(self) -> None:
        """A medical time-out: the next point is point 0 after it."""
        self._mto_index = 0
        self.changes += 1

    def on_point(self, point: PointEnded, out: FloatArray | None = None) -> FloatArray:
        """The token of the point that just ended (see the timing contract)."""
        counters = update_counters(
            self.counters,
            server=point.server,
            winner=point.winner,
            serve_no=point.serve_no,
            ace=point.ace,
            double_fault=point.double_fault,
        )
        row = token_row(  # validates before any state changes
            point.score_after,
            counters,
            fair_prob=point.fair_prob,
            prev_fair_prob=self._prev_fair,
            fair_if_p1_wins=point.fair_if_p1_wins,
            fair_if_p1_loses=point.fair_if_p1_loses,
            pts_since_mto=self._mto_index,
            book=point.book,
            prev_book=self._prev_book,
            prev_market_prob=self._prev_market,
        )
        token = fill_token(row, self.variant, out)
        self.counters = counters
        self._prev_fair = point.fair_prob
        self._prev_book = point.book
        self._prev_market = None  # until the market label of this point is known
        if self._mto_index is not None:
            self._mto_index += 1
        self.changes += 1
        return token

    def on_market_label(self, market_prob: float) -> None:
        """The market probability after it reacted to the last point (the token's label)."""
        if not 0.0 <= market_prob <= 1.0:
            raise ValueError(f"market_prob: must be a probability, got {market_prob!r}")
        self._prev_market = market_prob
        self.changes += 1
