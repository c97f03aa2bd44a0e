"""Betfair in-play scores payloads (../shared/data/betfair/scores) mapped onto our ticks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.scores.betfair_scores import (
    BetfairScoreError,
    BetfairScoresMapper,
    in_progress_events,
    map_incidents_payload,
    parse_time,
    score_to_snapshot,
)
from engine.physics.rules import MatchRules
from engine.score.book import ScoreBook
from engine.score.machine import MatchScoreMachine
from engine.score.stats import TickOutcome
from engine.score.ticks import MatchStart, Point, Snapshot

EVENT = "28237283"
RULES = MatchRules(best_of=3, final_set="tb7@6")


def _load(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / "betfair" / "scores" / name).read_text())


def _incidents(shared_data: Path) -> list[dict[str, Any]]:
    event = _load(shared_data, "tennis_incidents_point_by_point.json")[0]
    return [event["incidents"][k] for k in sorted(event["incidents"], key=int)]


def test_point_incidents_become_a_valid_tick_stream(shared_data: Path) -> None:
    # Arrange
    payload = _load(shared_data, "tennis_incidents_point_by_point.json")

    # Act
    ticks = map_incidents_payload(payload, RULES)[EVENT]
    book = ScoreBook()
    outcomes = [book.apply(t) for t in ticks]

    # Assert: match start + 25 points (22 point, 2 ace, 1 double fault; faults are not points)
    assert isinstance(ticks[0], MatchStart)
    assert ticks[0].players == ("4729711", "8792467") and ticks[0].first_server == 1
    assert ticks[0].ts == parse_time("2017-05-16T11:10:22.000Z")
    assert sum(isinstance(t, Point) for t in ticks) == 25
    assert [t.seq for t in ticks] == list(range(1, len(ticks) + 1))
    assert set(outcomes) == {TickOutcome.APPLIED}
    machine = book.get(EVENT)
    assert machine is not None and machine.trusted
    # the last incident: games 1-2, player 2 serving, 40-Av
    assert machine.score is not None
    assert machine.score.key() == ((0, 0), (1, 2), (3, 4), 2, False)


def test_first_point_maps_server_winner_and_time(shared_data: Path) -> None:
    # Act
    ticks = BetfairScoresMapper(EVENT, RULES).map_incidents(_incidents(shared_data))

    # Assert: incident 6, 11:10:35Z, player 1 served, player 2 won
    assert ticks[1] == Point(EVENT, 2, parse_time("2017-05-16T11:10:35.000Z"), 1, 2)


def test_a_missed_incident_is_repaired_by_a_snapshot_at_the_next_pointstart(
    shared_data: Path,
) -> None:
    # Arrange: drop incident 14 (player 2 wins the point from 30-15 to 30-30 in game 1)
    incidents = [i for i in _incidents(shared_data) if i["updateContext"]["updateSequence"] != 14]
    mapper = BetfairScoresMapper(EVENT, RULES)

    # Act
    ticks = mapper.map_incidents(incidents)
    machine = MatchScoreMachine(EVENT)
    outcomes = [machine.apply(t) for t in ticks]

    # Assert: the mapper noticed, resynchronised, and the final state is still right
    assert mapper.counts["sequence_gap"] == 1
    assert mapper.counts["desync_score"] == 1
    assert mapper.counts["resync"] == 1
    snapshots = [t for t in ticks if isinstance(t, Snapshot)]
    assert len(snapshots) == 1
    score = snapshots[0].score
    assert (score.games, score.points, score.server) == ((0, 0), (3, 2), 1)
    assert TickOutcome.RESYNCED in outcomes
    assert machine.trusted and machine.score is not None
    assert machine.score.key() == ((0, 0), (1, 2), (3, 4), 2, False)


def test_malformed_incident_is_counted_and_skipped(shared_data: Path) -> None:
    # Arrange
    incidents = _incidents(shared_data)
    broken = copy.deepcopy(incidents)
    broken[6]["values"]["wonBy"] = "3"  # incident 6: the first point
    mapper = BetfairScoresMapper(EVENT, RULES)

    # Act
    ticks = mapper.map_incidents(broken)

    # Assert
    assert mapper.counts["malformed"] == 1
    assert sum(isinstance(t, Point) for t in ticks) == 24


def test_score_payload_becomes_a_snapshot_the_machine_accepts(shared_data: Path) -> None:
    # Arrange
    payload = _load(shared_data, "tennis_score.json")[0]

    # Act
    snapshot = score_to_snapshot(payload, RULES, seq=77, first_server=1)
    machine = MatchScoreMachine(EVENT)
    outcome = machine.apply(snapshot)

    # Assert: 1-2 in games, 30-40, and game 4 is served by player 2
    assert snapshot.match_id == EVENT
    assert snapshot.ts == parse_time("2017-05-16T11:24:06.000Z")
    assert (snapshot.score.games, snapshot.score.points, snapshot.score.server) == (
        (1, 2),
        (2, 3),
        2,
    )
    assert outcome is TickOutcome.RESYNCED and machine.trusted


def test_score_payload_without_a_derivable_server_is_refused(shared_data: Path) -> None:
    payload = _load(shared_data, "tennis_score.json")[0]
    with pytest.raises(BetfairScoreError, match=r"^server:"):
        score_to_snapshot(payload, RULES, seq=1)


def test_available_events_lists_tennis_events_in_progress(shared_data: Path) -> None:
    # Act
    events = in_progress_events(_load(shared_data, "tennis_availableevents.json"))

    # Assert
    assert len(events) == 26
    assert events[0] == EVENT
