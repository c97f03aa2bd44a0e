"""Points since the last medical time-out, the gate's MTO input, followed from score ticks.

The score state machine knows whether a time-out is running (`mto`), not how many points were
played since one ended; the gate and the emulator features need that count (`pts_since_mto`,
None when the match has had no time-out). Feed every tick with the machine's outcome for it: only
state-changing outcomes move the count, so a rejected or duplicated point never shortens the block.
"""

from __future__ import annotations

from engine.score.stats import STATE_CHANGING, TickOutcome
from engine.score.ticks import ScoreTick, Snapshot


class MtoTracker:
    """`running` while a time-out is on; `pts_since_mto` points applied since the last one."""

    __slots__ = ("pts_since_mto", "running")

    def __init__(self) -> None:
        self.running = False
        self.pts_since_mto: int | None = None

    def observe(self, tick: ScoreTick, outcome: TickOutcome) -> None:
        if outcome not in STATE_CHANGING:
            return
        kind = tick.type
        if kind == "point":
            if self.pts_since_mto is not None:
                self.pts_since_mto += 1
        elif kind in ("mto_start", "mto_end"):
            self.running = kind == "mto_start"
            self.pts_since_mto = 0
        elif isinstance(tick, Snapshot):
            # a resync cannot say how many points passed in the gap: keep the (lower, so more
            # cautious) count, and restart it if a time-out is running now
            if tick.mto is not None:
                self.running = True
                self.pts_since_mto = 0
            else:
                self.running = False
