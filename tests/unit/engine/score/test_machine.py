"""The per-match score state machine: impossible ticks, sequence trust, resync, match events."""

from __future__ import annotations

from typing import Any

import pytest

from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.score.machine import MatchScoreMachine
from engine.score.stats import ScoreStats, TickOutcome
from engine.score.ticks import (
    MatchEnd,
    MatchStart,
    MtoEnd,
    MtoStart,
    Point,
    Resume,
    Retirement,
    ScoreTick,
    Snapshot,
    SnapshotScore,
    Suspend,
    Walkover,
)

RULES = MatchRules(best_of=3, final_set="tb7@6")
M = "m1"


class Feed:
    """Builds ticks of one match with consecutive seqs, following the serve rotation."""

    def __init__(self, machine: MatchScoreMachine) -> None:
        self.machine = machine
        self.seq = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def send(self, tick: ScoreTick) -> TickOutcome:
        return self.machine.apply(tick)

    def start(self, first_server: int = 1) -> TickOutcome:
        return self.send(MatchStart(M, self.next_seq(), 100.0, RULES, ("A", "B"), first_server))  # type: ignore[arg-type]

    def point(self, winner: int, server: int | None = None) -> TickOutcome:
        score = self.machine.score
        actual = server if server is not None else (score.server if score is not None else 1)
        return self.send(Point(M, self.next_seq(), 100.0 + self.seq, actual, winner))  # type: ignore[arg-type]

    def game_to(self, winner: int) -> None:
        for _ in range(4):
            assert self.point(winner) is TickOutcome.APPLIED


def _machine() -> tuple[MatchScoreMachine, Feed]:
    machine = MatchScoreMachine(M, ScoreStats())
    return machine, Feed(machine)


def _snapshot(seq: int, games: tuple[int, int] = (2, 1), **kwargs: Any) -> Snapshot:
    fields: dict[str, object] = {
        "rules": RULES,
        "players": ("A", "B"),
        "score": SnapshotScore((0, 0), games, (1, 0), 2, ()),
        "status": "in_play",
        "mto": None,
    }
    fields.update(kwargs)
    return Snapshot(M, seq, 500.0, **fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ normal play


def test_points_move_the_score_and_the_pricing_state() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start(first_server=2)

    # Act
    feed.game_to(2)
    feed.point(1)

    # Assert
    assert machine.to_pricing_state() == MatchState(
        sets=(0, 0), games=(0, 1), points=(1, 0), server=1
    )
    assert machine.phase == "in_play" and machine.playable
    assert machine.stats.as_dict() == {"applied": {"match_start": 1, "point": 5}}


def test_a_completed_match_finishes_and_match_end_confirms_it() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    for _ in range(12):
        feed.game_to(1)

    # Act
    confirm = feed.send(MatchEnd(M, feed.next_seq(), 900.0, 1))

    # Assert
    assert confirm is TickOutcome.APPLIED
    assert (machine.status, machine.winner, machine.ended_by) == ("finished", 1, "completed")
    assert machine.to_pricing_state() is None


# ------------------------------------------------------------------------ impossible ticks


@pytest.mark.parametrize(
    ("setup", "tick_factory", "reason"),
    [
        ("none", lambda s: Point(M, s, 1.0, 1, 1), "not_started"),
        ("start", lambda s: Point(M, s, 1.0, 2, 1), "server_mismatch"),
        ("start", lambda s: MatchStart(M, s, 1.0, RULES, ("A", "B"), 1), "already_started"),
        ("suspended", lambda s: Point(M, s, 1.0, 1, 1), "suspended"),
        ("mto", lambda s: Point(M, s, 1.0, 1, 1), "mto_in_progress"),
        ("mto", lambda s: MtoStart(M, s, 1.0, 2), "mto_in_progress"),
        ("mto", lambda s: MtoEnd(M, s, 1.0, 2), "no_mto"),
        ("start", lambda s: Resume(M, s, 1.0), "not_suspended"),
        ("suspended", lambda s: Suspend(M, s, 1.0, "rain"), "not_in_play"),
        ("start", lambda s: MatchEnd(M, s, 1.0, 1), "match_not_over"),
        ("none", lambda s: Retirement(M, s, 1.0, 1), "not_in_play"),
        ("played", lambda s: Walkover(M, s, 1.0, 1), "points_played"),
        ("retired", lambda s: Point(M, s, 1.0, 1, 1), "match_finished"),
        ("retired", lambda s: Retirement(M, s, 1.0, 1), "not_in_play"),
        ("retired", lambda s: MatchEnd(M, s, 1.0, 2), "winner_mismatch"),
    ],
)
def test_impossible_ticks_are_rejected_and_distrust_the_match(setup, tick_factory, reason) -> None:
    # Arrange
    machine, feed = _machine()
    if setup != "none":
        feed.start()
    if setup == "suspended":
        feed.send(Suspend(M, feed.next_seq(), 1.0, "bad_light"))
    if setup == "mto":
        feed.send(MtoStart(M, feed.next_seq(), 1.0, 1))
    if setup == "played":
        feed.point(1)
    if setup == "retired":
        feed.send(Retirement(M, feed.next_seq(), 1.0, 2))
    before = (machine.score.key() if machine.score else None, machine.status, machine.last_seq)

    # Act
    outcome = machine.apply(tick_factory(feed.next_seq()))

    # Assert: nothing changed but trust, and the reason was counted
    assert outcome is TickOutcome.REJECTED
    assert not machine.trusted and not machine.playable
    assert machine.stats.counts[("rejected", reason)] == 1
    after = (machine.score.key() if machine.score else None, machine.status, machine.last_seq)
    assert after == before


# --------------------------------------------------------------------- match events


def test_mto_blocks_points_until_it_ends() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()

    # Act
    started = feed.send(MtoStart(M, feed.next_seq(), 1.0, 2))
    phase_during = machine.phase
    ended = feed.send(MtoEnd(M, feed.next_seq(), 2.0, 2))
    point = feed.point(1)

    # Assert
    assert (started, ended, point) == (TickOutcome.APPLIED,) * 3
    assert phase_during == "mto"
    assert machine.phase == "in_play" and machine.mto is None


def test_suspension_and_resumption() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)

    # Act
    feed.send(Suspend(M, feed.next_seq(), 1.0, "rain"))
    during = (machine.status, machine.suspend_reason, machine.playable)
    feed.send(Resume(M, feed.next_seq(), 2.0))

    # Assert
    assert during == ("suspended", "rain", False)
    assert machine.status == "in_play" and machine.playable
    assert feed.point(1) is TickOutcome.APPLIED


def test_retirement_during_a_suspension_ends_the_match_for_the_opponent() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.game_to(1)
    feed.send(Suspend(M, feed.next_seq(), 1.0, "other"))

    # Act
    outcome = feed.send(Retirement(M, feed.next_seq(), 2.0, 1))

    # Assert
    assert outcome is TickOutcome.APPLIED
    assert (machine.status, machine.winner, machine.ended_by) == ("finished", 2, "retired")
    assert feed.send(MatchEnd(M, feed.next_seq(), 3.0, 2)) is TickOutcome.APPLIED


def test_walkover_before_the_first_point_and_even_before_match_start() -> None:
    # Arrange
    machine, feed = _machine()

    # Act
    outcome = feed.send(Walkover(M, feed.next_seq(), 1.0, 2))

    # Assert
    assert outcome is TickOutcome.APPLIED
    assert (machine.status, machine.winner, machine.ended_by) == ("finished", 1, "walkover")


# ----------------------------------------------------------------------- sequence and trust


def test_a_seq_gap_distrusts_and_only_a_snapshot_restores_trust() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)
    feed.seq += 1  # one tick lost

    # Act
    gap = feed.point(1)
    ignored = [feed.point(1, server=1), feed.send(MtoStart(M, feed.next_seq(), 1.0, 1))]
    resync = machine.apply(_snapshot(feed.next_seq()))
    after = feed.point(2, server=2)

    # Assert
    assert gap is TickOutcome.GAP
    assert ignored == [TickOutcome.IGNORED_UNTRUSTED] * 2
    assert resync is TickOutcome.RESYNCED
    assert after is TickOutcome.APPLIED
    assert machine.trusted and machine.untrusted_reason is None
    assert machine.to_pricing_state() == MatchState((0, 0), (2, 1), (1, 1), 2)
    assert machine.stats.counts[("gap", "gap")] == 1
    assert machine.stats.counts[("ignored_untrusted", "point")] == 1
    assert machine.stats.counts[("ignored_untrusted", "mto_start")] == 1
    assert machine.stats.counts[("resynced", "snapshot")] == 1


def test_identical_redelivery_of_the_last_tick_is_a_harmless_duplicate() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)
    last = machine.last_tick
    assert last is not None

    # Act
    outcome = machine.apply(last)

    # Assert
    assert outcome is TickOutcome.DUPLICATE
    assert machine.trusted and machine.score is not None and machine.score.points == [1, 0]


def test_an_older_or_different_tick_with_an_old_seq_is_out_of_order() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)
    feed.point(1)

    # Act
    outcome = machine.apply(Point(M, 2, 101.0, 1, 2))

    # Assert
    assert outcome is TickOutcome.OUT_OF_ORDER
    assert not machine.trusted
    assert machine.score is not None and machine.score.points == [2, 0]


def test_first_tick_must_be_seq_1_unless_it_is_a_snapshot() -> None:
    # Arrange
    late, _ = _machine()
    joiner, _ = _machine()

    # Act
    outcome_late = late.apply(MatchStart(M, 5, 1.0, RULES, ("A", "B"), 1))
    outcome_join = joiner.apply(_snapshot(40))

    # Assert
    assert outcome_late is TickOutcome.GAP
    assert outcome_join is TickOutcome.RESYNCED and joiner.trusted and joiner.last_seq == 40


def test_an_illegal_snapshot_is_rejected_and_leaves_the_match_untrusted() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()

    # Act
    outcome = machine.apply(_snapshot(feed.next_seq(), games=(6, 2)))

    # Assert
    assert outcome is TickOutcome.REJECTED
    assert not machine.trusted
    assert machine.stats.counts[("rejected", "illegal_snapshot")] == 1


def test_stale_snapshot_is_dropped_without_touching_state_or_trust() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)
    feed.point(1)

    # Act
    outcome = machine.apply(_snapshot(1))

    # Assert
    assert outcome is TickOutcome.STALE_SNAPSHOT
    assert machine.trusted and machine.score is not None and machine.score.points == [2, 0]


def test_snapshot_agreeing_with_the_state_is_applied_and_a_disagreeing_one_is_counted() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)
    agreeing = machine.snapshot(seq=feed.next_seq())
    assert agreeing is not None

    # Act
    first = machine.apply(agreeing)
    second = machine.apply(_snapshot(feed.next_seq()))

    # Assert
    assert first is TickOutcome.APPLIED
    assert second is TickOutcome.RESYNCED
    assert machine.stats.counts[("resynced", "snapshot_mismatch")] == 1
    assert machine.score is not None and machine.score.games == [2, 1]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"status": "finished"}, "winner: required"),
        ({"status": "not_started"}, "status: not_started"),
        ({"status": "finished", "winner": 1, "mto": 1}, "mto:"),
        ({"winner": 1}, "winner: given"),
    ],
)
def test_snapshot_status_must_fit_the_score(kwargs: dict[str, Any], problem: str) -> None:
    # Arrange
    machine, _ = _machine()

    # Act
    outcome = machine.apply(_snapshot(3, **kwargs))

    # Assert
    assert outcome is TickOutcome.REJECTED
    assert machine.untrusted_reason is not None and problem in machine.untrusted_reason


def test_finished_snapshot_with_a_winner_records_a_retirement() -> None:
    # Arrange
    machine, _ = _machine()

    # Act
    outcome = machine.apply(_snapshot(9, status="finished", winner=1))

    # Assert
    assert outcome is TickOutcome.RESYNCED
    assert (machine.status, machine.winner, machine.ended_by) == ("finished", 1, "retired")


def test_snapshot_round_trip_reproduces_a_tiebreak_state() -> None:
    # Arrange: reach 6-6 and two tiebreak points
    machine, feed = _machine()
    feed.start()
    for _ in range(6):
        feed.game_to(1)
        feed.game_to(2)
    feed.point(1)
    feed.point(2)
    snap = machine.snapshot()
    assert snap is not None
    clone = MatchScoreMachine(M)

    # Act
    clone.apply(snap)

    # Assert
    assert clone.score is not None and machine.score is not None
    assert clone.score.key() == machine.score.key()
    assert clone.score.tiebreak


# ----------------------------------------------------------------------------- staleness


def test_staleness_uses_the_receive_clock() -> None:
    # Arrange
    machine, _ = _machine()
    never = machine.is_stale(now=10.0, max_age_s=5.0)

    # Act
    machine.apply(MatchStart(M, 1, 1_000.0, RULES, ("A", "B"), 1), received_at=50.0)

    # Assert
    assert never
    assert not machine.is_stale(now=54.0, max_age_s=5.0)
    assert machine.is_stale(now=56.0, max_age_s=5.0)
    assert machine.last_event_ts == 1_000.0


def test_a_tick_of_another_match_is_refused_without_distrusting() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()

    # Act
    outcome = machine.apply(Point("other", 2, 1.0, 1, 1))

    # Assert
    assert outcome is TickOutcome.REJECTED
    assert machine.trusted and machine.last_seq == 1
    assert machine.stats.counts[("rejected", "wrong_match")] == 1


def test_a_snapshot_bridging_a_gap_resyncs_without_a_mismatch_warning() -> None:
    # Arrange
    machine, feed = _machine()
    feed.start()
    feed.point(1)

    # Act: seqs 3..9 were never received; the snapshot at 10 covers them
    outcome = machine.apply(_snapshot(10))

    # Assert
    assert outcome is TickOutcome.RESYNCED
    assert machine.trusted and machine.last_seq == 10
    assert machine.stats.counts[("resynced", "snapshot")] == 1
    assert machine.stats.counts[("resynced", "snapshot_mismatch")] == 0
