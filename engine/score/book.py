"""All followed matches' score machines behind one `apply`, with shared counters.

The engine hands every tick from every score source to one `ScoreBook`; it also tells a
reconnecting feed client where to resume (last applied seq per match) and which matches need a
snapshot because they are untrusted.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.score.machine import MatchScoreMachine
from engine.score.stats import ScoreStats, TickOutcome
from engine.score.ticks import ScoreTick


class ScoreBook:
    """Score machines by match id, created on a match's first tick."""

    __slots__ = ("_machines", "stats")

    def __init__(self, stats: ScoreStats | None = None) -> None:
        self.stats = stats if stats is not None else ScoreStats()
        self._machines: dict[str, MatchScoreMachine] = {}

    def apply(self, tick: ScoreTick, received_at: float | None = None) -> TickOutcome:
        machine = self._machines.get(tick.match_id)
        if machine is None:
            machine = self._machines[tick.match_id] = MatchScoreMachine(tick.match_id, self.stats)
        return machine.apply(tick, received_at)

    def get(self, match_id: str) -> MatchScoreMachine | None:
        return self._machines.get(match_id)

    def __iter__(self) -> Iterator[MatchScoreMachine]:
        return iter(self._machines.values())

    def __len__(self) -> int:
        return len(self._machines)

    def resume_seqs(self) -> dict[str, int]:
        """Last applied seq of every trusted match: a feed resumes after it."""
        return {m.match_id: m.last_seq for m in self._machines.values() if m.trusted}

    def needing_snapshot(self) -> list[str]:
        """Matches that only a snapshot can bring back (untrusted)."""
        return sorted(m.match_id for m in self._machines.values() if not m.trusted)

    def stale(self, now: float, max_age_s: float) -> list[str]:
        """Unfinished matches with no tick within `max_age_s` of `now`."""
        return sorted(
            m.match_id
            for m in self._machines.values()
            if m.status != "finished" and m.is_stale(now, max_age_s)
        )
