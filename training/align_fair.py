"""The physics fair price per point, exactly as engine/physics provides it: pre-match odds →
de-vig → chain inversion (calibration) → empirical-Bayes serve-strength updating → per-tour
logit-slope recalibration. Used by the aligner for the `fair_prob` label and the fair features.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.physics.calibration import PhysicsConfig, calibrate_from_odds
from engine.physics.inplay import ServeStrengthTracker, opening_fair, recalibrate
from engine.physics.pricing import what_if
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState


@dataclass(frozen=True, slots=True)
class FairPoint:
    """P(player 1 wins) after a point, and the two what-ifs of the point about to be played."""

    fair_prob: float
    if_p1_wins: float
    if_p1_loses: float


class FairPricer:
    """Per-match physics state; `after_point` is called once per point, in order."""

    def __init__(
        self,
        odds_p1: float,
        odds_p2: float,
        *,
        rules: MatchRules,
        tour: str,
        surface: str,
        config: PhysicsConfig,
    ) -> None:
        calibration = calibrate_from_odds(
            odds_p1, odds_p2, rules, config.serve_sum(tour, surface), config.devig
        )
        inplay = config.inplay(tour)
        self.rules = rules
        self.pre_match_prob = calibration.p1_prematch
        self.slope = inplay.slope
        self.tracker = ServeStrengthTracker(calibration.pa, calibration.pb, inplay.strength)

    @property
    def opening_fair(self) -> float:
        """P(player 1 wins) at 0-0: the line the chain was calibrated to, through the tour's logit
        slope (engine.physics.inplay.opening_fair, as the engine computes it)."""
        return opening_fair(self.pre_match_prob, self.slope)

    def after_point(self, server: int, winner: int, state: MatchState) -> FairPoint:
        """Record the point, then price `state` (the score after it) with the updated strengths."""
        self.tracker.record_point(server, winner == server)
        pa, pb = self.tracker.current()
        now, won, lost = what_if(pa, pb, self.rules, state)
        return FairPoint(
            fair_prob=recalibrate(now, self.slope),
            if_p1_wins=recalibrate(won, self.slope),
            if_p1_loses=recalibrate(lost, self.slope),
        )
