"""The per-match score state machine: applies score ticks in sequence and keeps trust.

Why a machine and not just a score: the engine must never price or trade on a score it cannot
vouch for. Every tick is checked against the sequence (gaps, replays) and against what tennis
allows in the current state (docs/score-ticks.md lists the rules); anything wrong marks the match
UNTRUSTED, and from then on only a snapshot (the full state) is applied until trust is restored.
Every outcome is counted in the shared `ScoreStats` and logged with the match, seq and reason.

`apply` is synchronous and allocation-light: it runs on the engine's hot path for every tick.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from engine.logs import get_logger
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.score.scoring import IllegalScoreError, Score
from engine.score.stats import ScoreStats, TickOutcome
from engine.score.ticks import (
    MatchEnd,
    MatchStart,
    MtoEnd,
    MtoStart,
    Point,
    Retirement,
    ScoreTick,
    Snapshot,
    SnapshotScore,
    SnapshotStatus,
    Suspend,
    Walkover,
)

EndedBy: TypeAlias = Literal["completed", "retired", "walkover"]
Phase: TypeAlias = Literal["not_started", "in_play", "suspended", "mto", "finished"]

_log = get_logger("score.machine")


# tick type -> the method that applies it. Names, not bound methods kept on the instance: those
# would make every machine a reference cycle, left for the cycle collector once discarded.
_HANDLERS: dict[str, str] = {
    "point": "_on_point",
    "match_start": "_on_match_start",
    "mto_start": "_on_mto_start",
    "mto_end": "_on_mto_end",
    "suspend": "_on_suspend",
    "resume": "_on_resume",
    "retirement": "_on_retirement",
    "walkover": "_on_walkover",
    "match_end": "_on_match_end",
}


class MatchScoreMachine:
    """Score, status and trust of one match, driven by its ticks.

    status: ``not_started`` → ``in_play`` ⇄ ``suspended`` → ``finished``; `mto` is the player whose
    medical time-out is running (None otherwise); `winner`/`ended_by` are set when finished.
    """

    __slots__ = (
        "ended_by",
        "last_event_ts",
        "last_received_at",
        "last_seq",
        "last_tick",
        "match_id",
        "mto",
        "players",
        "rules",
        "score",
        "stats",
        "status",
        "suspend_reason",
        "trusted",
        "untrusted_reason",
        "winner",
    )

    def __init__(self, match_id: str, stats: ScoreStats | None = None) -> None:
        self.match_id = match_id
        self.stats = stats if stats is not None else ScoreStats()
        self.rules: MatchRules | None = None
        self.players: tuple[str, str] | None = None
        self.score: Score | None = None
        self.status: SnapshotStatus = "not_started"
        self.mto: int | None = None
        self.suspend_reason: str | None = None
        self.winner: int | None = None
        self.ended_by: EndedBy | None = None
        self.trusted = True
        self.untrusted_reason: str | None = None
        self.last_seq = 0
        self.last_tick: ScoreTick | None = None
        self.last_event_ts: float | None = None
        self.last_received_at: float | None = None

    # ------------------------------------------------------------------------------ queries

    @property
    def phase(self) -> Phase:
        """One word for dashboards and gates: the status, with ``mto`` while a time-out runs."""
        if self.mto is not None and self.status == "in_play":
            return "mto"
        return self.status

    @property
    def playable(self) -> bool:
        """Trusted, in play and no time-out: the state in which points are expected."""
        return self.trusted and self.status == "in_play" and self.mto is None

    def is_stale(self, now: float, max_age_s: float) -> bool:
        """True when no tick for this match arrived within `max_age_s` of `now` (same clock as
        the `received_at` passed to `apply`), or none ever did."""
        return self.last_received_at is None or now - self.last_received_at > max_age_s

    def to_pricing_state(self) -> MatchState | None:
        """The score as the pricing chain's input; None when there is nothing to price (no
        rules yet, or the match is over)."""
        score = self.score
        if score is None or self.status == "finished" or score.is_complete:
            return None
        return score.pricing_state()

    def snapshot(self, seq: int | None = None, ts: float | None = None) -> Snapshot | None:
        """The current state as a snapshot tick (by default at the last applied seq); None
        before the rules are known. Used by providers to resynchronise a (re)joining client."""
        score = self.score
        if score is None or self.rules is None or self.players is None:
            return None
        server = score.server
        return Snapshot(
            match_id=self.match_id,
            seq=self.last_seq if seq is None else seq,
            ts=(self.last_event_ts or 0.0) if ts is None else ts,
            rules=self.rules,
            players=self.players,
            score=SnapshotScore(
                sets=(score.sets[0], score.sets[1]),
                games=(score.games[0], score.games[1]),
                points=(score.points[0], score.points[1]),
                server=1 if server == 1 else 2,
                set_scores=tuple(score.set_scores),
            ),
            status=self.status,
            mto=1 if self.mto == 1 else 2 if self.mto == 2 else None,
            winner=(1 if self.winner == 1 else 2) if self.winner is not None else None,
        )

    # ---------------------------------------------------------------------------- applying

    def apply(self, tick: ScoreTick, received_at: float | None = None) -> TickOutcome:
        """Apply one tick of this match; returns what happened (never raises on bad input).

        `received_at` is the arrival time on the engine's clock (the tick's own `ts` if None);
        it feeds the staleness check.
        """
        if tick.match_id != self.match_id:  # a routing bug upstream: refuse, keep trust
            return self._note(TickOutcome.REJECTED, tick, "wrong_match", warn=True)
        self.last_received_at = tick.ts if received_at is None else received_at
        if isinstance(tick, Snapshot):
            return self._apply_snapshot(tick)
        if not self.trusted:
            return self._note(TickOutcome.IGNORED_UNTRUSTED, tick, tick.type, warn=False)
        expected = self.last_seq + 1
        if tick.seq != expected:
            if tick.seq == self.last_seq and tick == self.last_tick:
                return self._note(TickOutcome.DUPLICATE, tick, tick.type, warn=False)
            outcome = TickOutcome.GAP if tick.seq > expected else TickOutcome.OUT_OF_ORDER
            return self._distrust(outcome, tick, f"{outcome.value}: expected seq {expected}")
        problem = getattr(self, _HANDLERS[tick.type])(tick)
        if problem is not None:
            return self._distrust(TickOutcome.REJECTED, tick, problem)
        self.last_seq = tick.seq
        self.last_tick = tick
        self.last_event_ts = tick.ts
        self.stats.count(TickOutcome.APPLIED, tick.type)
        return TickOutcome.APPLIED

    def _note(self, outcome: TickOutcome, tick: ScoreTick, detail: str, warn: bool) -> TickOutcome:
        self.stats.count(outcome, detail)
        log = _log.warning if warn else _log.info
        log(
            "score_tick_" + outcome.value,
            match_id=self.match_id,
            seq=tick.seq,
            tick_type=tick.type,
            detail=detail,
            last_seq=self.last_seq,
        )
        return outcome

    def _distrust(self, outcome: TickOutcome, tick: ScoreTick, reason: str) -> TickOutcome:
        """Mark the match untrusted; the detail counted is the reason's first word."""
        self.trusted = False
        self.untrusted_reason = f"seq {tick.seq} {tick.type}: {reason}"
        return self._note(outcome, tick, reason.split(":", 1)[0], warn=True)

    # ------------------------------------------------------------------------------ handlers
    # Each returns None when the tick is possible (and has been applied), else the reason.

    def _on_point(self, tick: Point) -> str | None:
        score = self.score
        if self.status != "in_play" or score is None:
            return "match_finished" if self.status == "finished" else self.status
        if self.mto is not None:
            return f"mto_in_progress: player {self.mto}"
        if tick.server != score.server:
            return f"server_mismatch: rotation says player {score.server} serves"
        score.play_point(tick.winner)
        if score.winner is not None:
            self._finish(score.winner, "completed")
        return None

    def _on_match_start(self, tick: MatchStart) -> str | None:
        if self.status != "not_started" or (self.score is not None and self.score.points_played):
            return f"already_started: status {self.status}"
        self.rules = tick.rules
        self.players = tick.players
        self.score = Score(tick.rules, tick.first_server)
        self.status = "in_play"
        return None

    def _on_mto_start(self, tick: MtoStart) -> str | None:
        if self.status != "in_play":
            return f"not_in_play: status {self.status}"
        if self.mto is not None:
            return f"mto_in_progress: player {self.mto}"
        self.mto = tick.player
        return None

    def _on_mto_end(self, tick: MtoEnd) -> str | None:
        if self.mto != tick.player:
            return f"no_mto: no time-out running for player {tick.player}"
        self.mto = None
        return None

    def _on_suspend(self, tick: Suspend) -> str | None:
        if self.status != "in_play":
            return f"not_in_play: status {self.status}"
        self.status = "suspended"
        self.suspend_reason = tick.reason
        return None

    def _on_resume(self, _tick: object) -> str | None:
        if self.status != "suspended":
            return f"not_suspended: status {self.status}"
        self.status = "in_play"
        self.suspend_reason = None
        return None

    def _on_retirement(self, tick: Retirement) -> str | None:
        if self.status not in ("in_play", "suspended"):
            return f"not_in_play: status {self.status}"
        self._finish(3 - tick.player, "retired")
        return None

    def _on_walkover(self, tick: Walkover) -> str | None:
        if self.status == "finished":
            return "match_finished"
        if self.score is not None and self.score.points_played:
            return "points_played: a walkover is only possible before the first point"
        self._finish(3 - tick.player, "walkover")
        return None

    def _on_match_end(self, tick: MatchEnd) -> str | None:
        if self.status != "finished":
            return "match_not_over: the score is not complete"
        if tick.winner != self.winner:
            return f"winner_mismatch: the score says player {self.winner} won"
        return None

    def _finish(self, winner: int, how: EndedBy) -> None:
        self.status = "finished"
        self.winner = winner
        self.ended_by = how
        self.mto = None
        self.suspend_reason = None

    # ----------------------------------------------------------------------------- snapshots

    def _apply_snapshot(self, tick: Snapshot) -> TickOutcome:
        if tick.seq < self.last_seq:
            return self._note(TickOutcome.STALE_SNAPSHOT, tick, "snapshot", warn=False)
        try:
            score = _snapshot_score(tick)
        except IllegalScoreError as exc:
            return self._distrust(TickOutcome.REJECTED, tick, f"illegal_snapshot: {exc}")
        # Comparable only when the snapshot covers no tick we have not seen (same seq as the
        # last applied one, or the next); a later one legitimately differs (it bridges a gap).
        was_trusted = self.trusted and self.last_seq > 0 and tick.seq <= self.last_seq + 1
        agrees = was_trusted and self._agrees_with(tick, score)
        self.rules = tick.rules
        self.players = tick.players
        self.score = score
        self.status = tick.status
        self.mto = tick.mto
        self.suspend_reason = "other" if tick.status == "suspended" else None
        self.winner = None
        self.ended_by = None
        if tick.status == "finished":
            winner = score.winner if score.winner is not None else tick.winner
            self.winner = winner
            self.ended_by = (
                "completed"
                if score.winner is not None
                else "retired"
                if score.points_played
                else "walkover"
            )
        self.trusted = True
        self.untrusted_reason = None
        self.last_seq = tick.seq
        self.last_tick = tick
        self.last_event_ts = tick.ts
        if agrees:
            self.stats.count(TickOutcome.APPLIED, "snapshot")
            return TickOutcome.APPLIED
        if was_trusted:  # we believed a different state: worth a warning
            return self._note(TickOutcome.RESYNCED, tick, "snapshot_mismatch", warn=True)
        return self._note(TickOutcome.RESYNCED, tick, "snapshot", warn=False)

    def _agrees_with(self, tick: Snapshot, score: Score) -> bool:
        mine = self.score
        if mine is None:
            return False
        return (
            mine.key() == score.key()
            and mine.set_scores == score.set_scores
            and self.status == tick.status
            and self.mto == tick.mto
            and self.rules == tick.rules
        )


def _snapshot_score(tick: Snapshot) -> Score:
    """The snapshot's score, checked for legality and for consistency with its status."""
    given = tick.score
    score = Score.from_state(
        tick.rules,
        sets=given.sets,
        games=given.games,
        points=given.points,
        server=given.server,
        set_scores=given.set_scores,
    )
    if tick.status == "not_started" and score.points_played:
        raise IllegalScoreError("status: not_started with points already played")
    if tick.mto is not None and tick.status not in ("in_play", "suspended"):
        raise IllegalScoreError(f"mto: a time-out cannot run while {tick.status}")
    if tick.status == "finished":
        if score.winner is None and tick.winner is None:
            raise IllegalScoreError(
                "winner: required for a finished match with an incomplete score"
            )
        if score.winner is not None and tick.winner not in (None, score.winner):
            raise IllegalScoreError(f"winner: the score says player {score.winner} won")
    else:
        if score.winner is not None:
            raise IllegalScoreError(f"status: {tick.status} but the score is complete")
        if tick.winner is not None:
            raise IllegalScoreError(f"winner: given for a match that is {tick.status}")
    return score
