"""Emu-full's step for the next point, taken before the point is played.

The physics lookahead (engine/core/lookahead.py) prices both outcomes of the next point once the
previous one is decided. Foresight goes one stage further, with the book as it stands: for each
outcome it builds the token that outcome would produce (on a copy of the match's feature state)
and steps Emu-full on it into a side branch (`EmulatorRunner.speculate`), leaving the match's
emulator state as it was. When the point comes and nothing those tokens and steps read has moved
since — the book (its object and change count), the feature state, Emu-full's state, the depth
history, the link and the pricing — the outcome that happened is taken: its feature state and
token replace the match's, and `commit` advances Emu-full by its step (a copy of a few hundred
floats). That is what building and stepping on the spot gives, bit for bit; anything else is a
miss, built and stepped on the spot as before.

The engine foresees only when it was given a way to defer work off the event path (the daemon's
`loop.call_soon`): after every point and every book change of a priced match, coalesced per loop
pass. A point read in the same pass as a book change of its market misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.core.lookahead import PointPrice
from engine.features.builders import FloatArray
from engine.features.match import MatchFeatures
from engine.market.book import MarketBook
from engine.models.runner import StepOutput
from engine.registry import Link

if TYPE_CHECKING:  # engine.core.match holds a Foresight per match
    from engine.core.match import FollowedMarket, Pricing


@dataclass(frozen=True, slots=True)
class ForeseenOutcome:
    """One outcome of the next point: the match's feature state after it, its token and
    Emu-full's output for it, held in emulator branch `branch`."""

    outcome: PointPrice
    features: MatchFeatures
    token: FloatArray
    emu_full: StepOutput | None
    branch: int


@dataclass(frozen=True, slots=True)
class Foresight:
    """A match's next point, foreseen from everything named here as it stood then."""

    book: MarketBook | None
    book_changes: int
    link: Link
    pricing: Pricing
    features: MatchFeatures
    feature_changes: int
    full_steps: int
    points: int
    depth_history: list[float]
    depth_count: int
    depths_after: list[float]  # the depth history once the point's book is summarised
    outcomes: tuple[ForeseenOutcome, ...]

    def holds(self, slot: FollowedMarket, book: MarketBook | None) -> bool:
        """Nothing the tokens and steps read has moved since they were taken."""
        return (
            book is self.book
            and slot.book_changes == self.book_changes
            and slot.link is self.link
            and slot.pricing is self.pricing
            and slot.features is self.features
            and slot.features.changes == self.feature_changes
            and slot.emulators.full_steps == self.full_steps
            and slot.points == self.points
            and slot.point_depths is self.depth_history
            and len(slot.point_depths) == self.depth_count
        )

    def outcome_for(self, priced: PointPrice, server: int, winner: int) -> ForeseenOutcome | None:
        """The foreseen outcome priced as `priced` (the lookahead's own object), played by this
        server and won by this winner; None if the point went another way."""
        for foreseen in self.outcomes:
            outcome = foreseen.outcome
            if outcome is priced and outcome.server == server and outcome.winner == winner:
                return foreseen
        return None
