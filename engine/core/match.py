"""Per-match state of the engine: one `FollowedMarket` per followed MATCH_ODDS market.

Everything the event path needs for one match lives here, preallocated when the market is first
seen: the link to its score-feed match, feature state, emulator states, gate memory, the physics
serve-strength tracker and the latest outputs (fair price, what-if values for the next point,
emulator prices, gate decision, prediction record).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.emulators import EmulatorSlot
from engine.core.foresight import Foresight
from engine.core.lookahead import PointLookahead
from engine.features.match import MatchFeatures
from engine.gate.decide import GateDecision, GateInputs
from engine.gate.state import GateState
from engine.models.runner import StepOutput
from engine.physics.inplay import ServeStrengthTracker
from engine.prediction import PredictionRecord
from engine.registry import Link


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What the price model needs beyond the score: tour (atp/wta) and surface."""

    tour: str
    surface: str


@dataclass(slots=True)
class Pricing:
    """Physics inputs fixed at the start of a match (pre-match line → serve probabilities)."""

    prematch_prob: float
    context: MatchContext
    tracker: ServeStrengthTracker
    slope: float


class FollowedMarket:
    """A followed market and, once linked, its score-feed match."""

    __slots__ = (
        "book_changes",
        "decision",
        "emu_full",
        "emu_lite",
        "emulators",
        "fair",
        "features",
        "foresight",
        "gate_inputs",
        "gate_state",
        "link",
        "lookahead",
        "market_id",
        "next_fair",
        "point_depths",
        "points",
        "prediction",
        "pricing",
    )

    def __init__(self, market_id: str, link: Link, gate_state: GateState, emulators: EmulatorSlot):
        self.market_id = market_id
        self.link = link
        self.gate_state = gate_state
        self.emulators = emulators
        self.features = MatchFeatures()
        self.gate_inputs = GateInputs(fair_prob=None, market_prob=None)
        self.pricing: Pricing | None = None
        self.fair: float | None = None
        self.next_fair: tuple[float, float] | None = None  # (if p1 wins the next point, loses it)
        self.lookahead = PointLookahead()  # the next point's physics, priced after this one
        self.foresight: Foresight | None = None  # … and its Emu-full step (engine/core/foresight)
        self.book_changes = 0  # market changes applied to this market's book
        self.emu_full: StepOutput | None = None
        self.emu_lite: StepOutput | None = None
        self.decision: GateDecision | None = None
        self.prediction: PredictionRecord | None = None
        self.points = 0
        self.point_depths: list[float] = []  # top-3 depth at each point, sorted (collapse rule)

    @property
    def match_id(self) -> str | None:
        return self.link.match_id

    def restart_features(self) -> None:
        """Forget the feature history (a resync: counters and lags restart from the snapshot)."""
        self.features = MatchFeatures()
        self.lookahead.clear()
        self.foresight = None
        self.gate_state.reset_emulator()
        self.emu_full = self.emu_lite = None
