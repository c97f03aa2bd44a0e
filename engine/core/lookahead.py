"""Physics for the next point, priced before it is played.

A point has two outcomes, and both are known as soon as the previous point is scored: the score
it leads to and the serve-strength estimate after it (the tracker counts one more serve point,
won or lost). So once a point's decision is out, the engine prices both outcomes of the next one
(`speculate`) and the next point's pipeline only looks its result up (`PointLookahead.take`)
instead of running the chain on the decision path. A result is used only when the point that
arrives reproduces the exact inputs it was priced from — the same (pa, pb) floats, score state
and rules — so a hit returns what pricing on the spot would have returned, bit for bit; anything
else (a snapshot, a corrected score, a server the feed disagrees about) is a miss and is priced
on the spot as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.physics.inplay import ServeStrengthTracker, recalibrate
from engine.physics.pricing import Pricing, price
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.score.scoring import Score


@dataclass(frozen=True, slots=True)
class PointPrice:
    """The physics of one state: the chain's outputs and the recalibrated fair price now, if
    player 1 wins the next point and if he loses it — with the inputs they came from, and for an
    outcome priced ahead, the point's server and winner that lead to it (0 when priced on the
    spot)."""

    pa: float
    pb: float
    state: MatchState
    rules: MatchRules
    chain: Pricing
    fair: float
    won: float
    lost: float
    server: int = 0
    winner: int = 0

    def matches(self, pa: float, pb: float, state: MatchState, rules: MatchRules) -> bool:
        return pa == self.pa and pb == self.pb and state == self.state and rules == self.rules


def price_point(
    pa: float,
    pb: float,
    rules: MatchRules,
    state: MatchState,
    slope: float,
    *,
    server: int = 0,
    winner: int = 0,
) -> PointPrice:
    """Price one state (the chain, then the tour's logit slope on its three probabilities)."""
    chain = price(pa, pb, rules, state)
    return PointPrice(
        pa,
        pb,
        state,
        rules,
        chain,
        float(recalibrate(chain.p_match, slope)),
        float(recalibrate(chain.if_point_won, slope)),
        float(recalibrate(chain.if_point_lost, slope)),
        server,
        winner,
    )


def speculate(score: Score, tracker: ServeStrengthTracker, slope: float) -> tuple[PointPrice, ...]:
    """Both outcomes of the next point of `score` (none that ends the match: a finished match
    is not priced)."""
    if score.is_complete:
        return ()
    server = score.server
    outcomes = []
    for winner in (1, 2):
        after = score.copy()
        after.play_point(winner)
        if after.is_complete:
            continue
        pa, pb = tracker.after(server, winner == server)
        state = after.pricing_state()
        outcomes.append(
            price_point(pa, pb, score.rules, state, slope, server=server, winner=winner)
        )
    return tuple(outcomes)


class PointLookahead:
    """One match's priced outcomes of its next point, and how often they were used."""

    __slots__ = ("hits", "misses", "outcomes")

    def __init__(self) -> None:
        self.outcomes: tuple[PointPrice, ...] = ()
        self.hits = 0
        self.misses = 0

    def take(self, pa: float, pb: float, state: MatchState, rules: MatchRules) -> PointPrice | None:
        """The priced outcome with exactly these inputs (then forgotten), else None."""
        outcomes, self.outcomes = self.outcomes, ()
        for outcome in outcomes:
            if outcome.matches(pa, pb, state, rules):
                self.hits += 1
                return outcome
        self.misses += 1
        return None

    def clear(self) -> None:
        self.outcomes = ()
