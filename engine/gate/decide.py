"""The gate decision: a pure function of the config, the match's rolling state and the event
(it reads the state, never changes it).

Every check runs (so a decision lists all failing ones for the log and the counters); the reported
`reason` is the first failing one in `reasons.PRIORITY`. Edge is signed, player 1's view:
``fair - market`` in probability units; the gate compares its magnitude with the required edge and
the strategy uses its sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from engine.gate.config import GateConfig
from engine.gate.reasons import BIT, GateReason, first_reason, reasons_in
from engine.gate.state import GateState

_B_NO_SCORE_FEED = BIT[GateReason.NO_SCORE_FEED]
_B_SUSPENDED = BIT[GateReason.SUSPENDED]
_B_STALE_STREAM = BIT[GateReason.STALE_STREAM]
_B_STALE_SCORE = BIT[GateReason.STALE_SCORE]
_B_UNTRUSTED = BIT[GateReason.UNTRUSTED_SCORE]
_B_MTO = BIT[GateReason.MTO]
_B_COLLAPSE = BIT[GateReason.LIQUIDITY_COLLAPSE]
_B_DISTRESS = BIT[GateReason.DISTRESS]
_B_EMU_UNPROVEN = BIT[GateReason.EMU_UNPROVEN]
_B_EMU_ERROR = BIT[GateReason.EMU_ERROR]
_B_NO_PRICE = BIT[GateReason.NO_PRICE]
_B_NO_EDGE = BIT[GateReason.NO_EDGE]


@dataclass(slots=True)
class GateInputs:
    """What the engine knows at this event. Mutable on purpose: the engine may keep one per match
    and update its fields in place instead of allocating one per event.

    fair_prob / market_prob: P(player 1 wins) from physics and from the book (None if missing).
    stream_age_s / score_age_s: seconds since the last market-stream message / score tick for this
    match (None: never received). pts_since_mto: points since the last medical time-out
    (None: no time-out in this match; see `engine.gate.mto.MtoTracker`); mto_running: one is in
    progress. depth: £ available near the touch (the measure fed to `GateState.observe_depth`);
    cum_size: £ on the whole visible ladder. distress: the emulator's distress probability (None:
    no emulator output this event).

    Every default is the fail-closed value (no score feed, untrusted, suspended, never heard from,
    empty book): an input the engine forgets to set keeps the gate shut.
    """

    fair_prob: float | None
    market_prob: float | None
    has_score_feed: bool = False
    suspended: bool = True
    stream_age_s: float | None = None
    score_age_s: float | None = None
    score_trusted: bool = False
    mto_running: bool = False
    pts_since_mto: int | None = None
    depth: float = 0.0
    cum_size: float = 0.0
    distress: float | None = None


class GateDecision(NamedTuple):
    """The outcome: open or not, the first blocking reason, every failing check (bit mask over
    `PRIORITY`), the edge, the edge that was required, and the inputs the rationale cites.

    A NamedTuple rather than a frozen dataclass: equally immutable, and built once per event at
    about a third of the cost.
    """

    open: bool
    reason: GateReason
    failing_mask: int
    edge: float | None
    required_edge: float
    emu_error: float | None
    pts_since_mto: int | None

    @property
    def failing(self) -> tuple[GateReason, ...]:
        """Every failing check, in priority order (empty when open)."""
        return reasons_in(self.failing_mask)

    def rationale(self) -> str:
        """Short structured explanation, e.g.
        ``gate=closed reason=mto pts_since_mto=3 edge=2.1ppt required=4.0ppt``."""
        parts = [f"gate={'open' if self.open else 'closed'}", f"reason={self.reason}"]
        if len(self.failing) > 1:
            parts.append("failing=" + ",".join(self.failing))
        if self.pts_since_mto is not None:
            parts.append(f"pts_since_mto={self.pts_since_mto}")
        if self.edge is not None:
            parts.append(f"edge={self.edge * 100.0:+.1f}ppt")
        parts.append(f"required={self.required_edge * 100.0:.1f}ppt")
        if self.emu_error is not None:
            parts.append(f"emu_err={self.emu_error * 100.0:.2f}ppt")
        return " ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (prediction records, the control API)."""
        return {
            "open": self.open,
            "reason": str(self.reason),
            "failing": [str(r) for r in self.failing],
            "edge": self.edge,
            "required_edge": self.required_edge,
            "emu_error": self.emu_error,
            "pts_since_mto": self.pts_since_mto,
            "rationale": self.rationale(),
        }


def required_edge(config: GateConfig, pts_since_mto: int | None) -> float:
    """The edge needed now: larger from the end of the MTO block until `mto_edge_points`."""
    if pts_since_mto is not None and pts_since_mto < config.mto_edge_points:
        return config.min_edge * config.mto_edge_multiplier
    return config.min_edge


def evaluate(config: GateConfig, state: GateState, inputs: GateInputs) -> GateDecision:
    """Decide whether a new entry is allowed now (DESIGN.md §6)."""
    mask = 0
    if not inputs.has_score_feed:
        mask |= _B_NO_SCORE_FEED
    if inputs.suspended:
        mask |= _B_SUSPENDED
    age = inputs.stream_age_s
    if age is None or age > config.stream_stale_s:
        mask |= _B_STALE_STREAM
    age = inputs.score_age_s
    if age is None or age > config.score_stale_s:
        mask |= _B_STALE_SCORE
    if not inputs.score_trusted:
        mask |= _B_UNTRUSTED
    pts = inputs.pts_since_mto
    if inputs.mto_running or (pts is not None and pts < config.mto_block_points):
        mask |= _B_MTO
    median = state.depth.median
    if (
        state.depth.count >= config.depth_median_min_samples
        and median is not None
        and inputs.depth < config.collapse_depth_fraction * median
        and inputs.cum_size < config.collapse_min_cum_size
    ):
        mask |= _B_COLLAPSE
    if inputs.distress is not None and inputs.distress >= config.distress_threshold:
        mask |= _B_DISTRESS
    window = state.emu_error
    emu_error = window.mean
    if window.count < config.emu_min_points or emu_error is None:
        mask |= _B_EMU_UNPROVEN
    elif emu_error > config.emu_error_max:
        mask |= _B_EMU_ERROR
    need = required_edge(config, pts)
    fair, market = inputs.fair_prob, inputs.market_prob
    edge: float | None = None
    if fair is None or market is None:
        mask |= _B_NO_PRICE
    else:
        edge = fair - market
        if not abs(edge) > need:  # NaN never passes
            mask |= _B_NO_EDGE
    return GateDecision(mask == 0, first_reason(mask), mask, edge, need, emu_error, pts)
