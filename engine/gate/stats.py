"""Gate decisions counted by reason (a plain counter: the metrics layer exports it)."""

from __future__ import annotations

from engine.gate.reasons import GateReason


class GateStats:
    """Counts of decisions by their reason (OPEN included), shared by all matches."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[GateReason, int] = dict.fromkeys(GateReason, 0)

    def count(self, reason: GateReason) -> None:
        self._counts[reason] += 1

    def total(self, reason: GateReason) -> int:
        return self._counts[reason]

    def as_dict(self) -> dict[str, int]:
        """Non-zero counts keyed by reason label."""
        return {str(reason): n for reason, n in self._counts.items() if n}
