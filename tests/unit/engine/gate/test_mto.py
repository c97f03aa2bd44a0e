"""Points since an MTO, followed from real score ticks, and the gate's MTO regime over time."""

from engine.gate import GateConfig, GateInputs, GateReason, GateState, evaluate
from engine.gate.mto import MtoTracker
from engine.physics.rules import MatchRules
from engine.score.machine import MatchScoreMachine
from engine.score.stats import ScoreStats, TickOutcome
from engine.score.ticks import (
    MatchStart,
    MtoEnd,
    MtoStart,
    Point,
    ScoreTick,
    Snapshot,
    SnapshotScore,
)

M = "m1"


class Feed:
    def __init__(self) -> None:
        self.machine = MatchScoreMachine(M, ScoreStats())
        self.tracker = MtoTracker()
        self.seq = 0

    def send(self, tick: ScoreTick) -> TickOutcome:
        outcome = self.machine.apply(tick)
        self.tracker.observe(tick, outcome)
        return outcome

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def start(self) -> None:
        self.send(MatchStart(M, self.next_seq(), 0.0, MatchRules(), ("A", "B"), 1))

    def point(self, winner: int = 1) -> TickOutcome:
        server = self.machine.score.server if self.machine.score is not None else 1
        return self.send(Point(M, self.next_seq(), float(self.seq), server, winner))  # type: ignore[arg-type]


def test_count_starts_at_the_time_out_and_moves_only_on_applied_points():
    feed = Feed()
    feed.start()
    feed.point()
    assert feed.tracker.pts_since_mto is None

    feed.send(MtoStart(M, feed.next_seq(), 1.0, 2))
    assert feed.tracker.running and feed.tracker.pts_since_mto == 0
    feed.send(MtoEnd(M, feed.next_seq(), 2.0, 2))
    for _ in range(3):
        feed.point()
    rejected = feed.send(Point(M, feed.seq, 9.0, 1, 1))  # replayed seq: not applied

    assert rejected is not TickOutcome.APPLIED
    assert not feed.tracker.running
    assert feed.tracker.pts_since_mto == 3


def test_a_snapshot_with_a_running_time_out_restarts_the_count():
    tracker = MtoTracker()
    tracker.pts_since_mto = 15
    snap = Snapshot(
        M,
        40,
        5.0,
        MatchRules(),
        ("A", "B"),
        SnapshotScore((0, 0), (2, 1), (0, 0), 1, ()),
        "in_play",
        1,
    )

    tracker.observe(snap, TickOutcome.RESYNCED)

    assert tracker.running and tracker.pts_since_mto == 0


def test_gate_blocks_during_and_six_points_after_an_mto_then_needs_a_larger_edge():
    config = GateConfig()
    state = GateState(config)
    for _ in range(config.emu_error_window):
        state.observe_point(0.5, 0.5)
    feed = Feed()
    feed.start()
    feed.send(MtoStart(M, feed.next_seq(), 1.0, 1))

    def decide() -> tuple[GateReason, float]:
        d = evaluate(
            config,
            state,
            GateInputs(
                0.535,
                0.5,
                has_score_feed=True,
                suspended=False,
                stream_age_s=0.1,
                score_age_s=1.0,
                score_trusted=True,
                mto_running=feed.tracker.running,
                pts_since_mto=feed.tracker.pts_since_mto,
            ),
        )
        return d.reason, d.required_edge

    timeline = [decide()]
    feed.send(MtoEnd(M, feed.next_seq(), 2.0, 1))
    for _ in range(22):
        timeline.append(decide())
        feed.point()

    reasons = [reason for reason, _ in timeline]
    assert reasons[:7] == [GateReason.MTO] * 7  # during the MTO and points 0..5 after it
    assert reasons[7:21] == [GateReason.NO_EDGE] * 14  # 3.5 ppt < 4 ppt until point 20
    assert reasons[21:] == [GateReason.OPEN] * 2  # from point 20 the base 2 ppt applies
