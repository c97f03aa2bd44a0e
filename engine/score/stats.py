"""Counters for the score plane: what happened to every tick, by outcome and detail.

One `ScoreStats` is shared by all matches of a process. It is a plain counter (no Prometheus
dependency here) so the metrics layer can export it as ``scores_ticks_total{outcome, detail}``.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum


class TickOutcome(StrEnum):
    """What the state machine did with a tick."""

    APPLIED = "applied"  # the state changed (or a confirmation was accepted)
    RESYNCED = "resynced"  # a snapshot replaced the state and restored trust
    DUPLICATE = "duplicate"  # identical re-delivery of the last applied tick: nothing to do
    REJECTED = "rejected"  # impossible in the current state: the match becomes untrusted
    GAP = "gap"  # seq skipped ahead: ticks were lost, the match becomes untrusted
    OUT_OF_ORDER = "out_of_order"  # seq at or below the last applied one: untrusted
    IGNORED_UNTRUSTED = "ignored_untrusted"  # arrived while untrusted: counted, not applied
    STALE_SNAPSHOT = "stale_snapshot"  # a snapshot not newer than the state: dropped


#: Outcomes after which the state may differ from before (the engine re-prices on these).
STATE_CHANGING = frozenset({TickOutcome.APPLIED, TickOutcome.RESYNCED})


class ScoreStats:
    """Tick counts by (outcome, detail). The detail is the tick type for applied/ignored ticks
    and the reason for problems (e.g. ``("rejected", "server_mismatch")``)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def count(self, outcome: TickOutcome, detail: str) -> None:
        # TickOutcome is a str: the key equals ("applied", "point") without an enum lookup
        self.counts[(outcome, detail)] += 1

    def total(self, outcome: TickOutcome) -> int:
        return sum(n for (kind, _detail), n in self.counts.items() if kind == outcome)

    def as_dict(self) -> dict[str, dict[str, int]]:
        """{outcome: {detail: count}}, sorted, for JSON summaries and logs."""
        out: dict[str, dict[str, int]] = {}
        for (outcome, detail), n in sorted(self.counts.items()):
            out.setdefault(str(outcome), {})[detail] = n
        return out
