"""Score-tick schema v1: parsing, refusal of malformed ticks, and byte-stable encoding."""

from __future__ import annotations

import pytest

from engine.physics.rules import MatchRules
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
    TickError,
    Walkover,
    decode_tick,
    encode_tick,
    parse_tick,
    tick_to_dict,
)

RULES = MatchRules(best_of=5, final_set="tb10@6", no_ad=False)

EVERY_TYPE: list[ScoreTick] = [
    MatchStart("m1", 1, 1.5, RULES, ("Ana", "Bea"), 2),
    Point("m1", 2, 2.0, 2, 1),
    MtoStart("m1", 3, 3.0, 1),
    MtoEnd("m1", 4, 4.0, 1),
    Suspend("m1", 5, 5.0, "rain"),
    Resume("m1", 6, 6.0),
    Retirement("m1", 7, 7.0, 2),
    Walkover("m2", 1, 7.5, 1),
    MatchEnd("m1", 8, 8.0, 1),
    Snapshot(
        "m1",
        9,
        9.0,
        RULES,
        ("Ana", "Bea"),
        SnapshotScore((1, 0), (6, 6), (3, 2), 1, ((7, 6),)),
        "suspended",
        2,
    ),
    Snapshot(
        "m3",
        4,
        9.0,
        MatchRules(),
        ("C", "D"),
        SnapshotScore((0, 1), (2, 1), (0, 0), 2, ((4, 6),)),
        "finished",
        None,
        winner=2,
    ),
]


@pytest.mark.parametrize("tick", EVERY_TYPE, ids=lambda t: t.type)
def test_every_tick_type_round_trips_through_json(tick: ScoreTick) -> None:
    # Act
    decoded = decode_tick(encode_tick(tick))

    # Assert
    assert decoded == tick
    assert encode_tick(decoded) == encode_tick(tick)


def test_encoding_has_the_documented_envelope_first() -> None:
    # Act
    line = encode_tick(Point("m1", 2, 2.0, 2, 1))

    # Assert
    assert line == b'{"v":1,"type":"point","match_id":"m1","seq":2,"ts":2.0,"server":2,"winner":1}'


def test_unknown_extra_keys_are_ignored_but_integer_ts_is_accepted() -> None:
    # Act
    tick = parse_tick(
        {
            "v": 1,
            "type": "point",
            "match_id": "m",
            "seq": 3,
            "ts": 17,
            "server": 1,
            "winner": 2,
            "rally": 12,
        }
    )

    # Assert
    assert tick == Point("m", 3, 17.0, 1, 2)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "tick: expected a JSON object"),
        ({"v": 2, "type": "point"}, "tick.v: unsupported schema version 2"),
        ({"v": True, "type": "point"}, "tick.v: unsupported schema version True"),
        ({"v": 1, "type": "serve"}, "tick.type: unknown tick type 'serve'"),
        ({"v": 1, "type": "point", "match_id": "", "seq": 1, "ts": 1.0}, "point.match_id:"),
        ({"v": 1, "type": "point", "match_id": "m", "seq": 0, "ts": 1.0}, "point.seq:"),
        ({"v": 1, "type": "point", "match_id": "m", "seq": True, "ts": 1.0}, "point.seq:"),
        ({"v": 1, "type": "point", "match_id": "m", "seq": 1, "ts": "now"}, "point.ts:"),
        ({"v": 1, "type": "point", "match_id": "m", "seq": 1, "ts": float("nan")}, "point.ts:"),
        (
            {
                "v": 1,
                "type": "point",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "server": 1,
                "winner": 3,
            },
            "point.winner: expected 1 or 2, got 3",
        ),
        (
            {
                "v": 1,
                "type": "point",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "server": True,
                "winner": 1,
            },
            "point.server: expected 1 or 2, got True",
        ),
        (
            {"v": 1, "type": "suspend", "match_id": "m", "seq": 1, "ts": 1.0, "reason": "fog"},
            "suspend.reason:",
        ),
        (
            {
                "v": 1,
                "type": "match_start",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "rules": {"best_of": 4, "final_set": "adv"},
                "players": ["a", "b"],
                "first_server": 1,
            },
            "match_start.rules.best_of: expected 3 or 5, got 4",
        ),
        (
            {
                "v": 1,
                "type": "match_start",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "rules": {"best_of": 3, "final_set": "tb9@6"},
                "players": ["a", "b"],
                "first_server": 1,
            },
            "match_start.rules.final_set:",
        ),
        (
            {
                "v": 1,
                "type": "match_start",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "rules": {"best_of": 3, "final_set": "adv"},
                "players": ["a"],
                "first_server": 1,
            },
            "match_start.players:",
        ),
        (
            {
                "v": 1,
                "type": "snapshot",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "rules": {"best_of": 3, "final_set": "adv"},
                "players": ["a", "b"],
                "status": "in_play",
                "mto": None,
                "score": {
                    "sets": [0, -1],
                    "games": [0, 0],
                    "points": [0, 0],
                    "server": 1,
                    "set_scores": [],
                },
            },
            "snapshot.score.sets: expected two non-negative integers",
        ),
        (
            {
                "v": 1,
                "type": "snapshot",
                "match_id": "m",
                "seq": 1,
                "ts": 1.0,
                "rules": {"best_of": 3, "final_set": "adv"},
                "players": ["a", "b"],
                "status": "paused",
                "mto": None,
                "score": {},
            },
            "snapshot.status:",
        ),
    ],
)
def test_malformed_ticks_are_refused_naming_the_field(obj: object, message: str) -> None:
    # Act / Assert
    with pytest.raises(TickError) as info:
        parse_tick(obj)
    assert str(info.value).startswith(message)


def test_invalid_json_is_a_tick_error() -> None:
    with pytest.raises(TickError, match=r"^tick: not valid JSON"):
        decode_tick(b'{"v": 1,')


def test_snapshot_winner_is_only_written_when_known() -> None:
    # Arrange
    in_play = EVERY_TYPE[-2]
    finished = EVERY_TYPE[-1]

    # Act / Assert
    assert "winner" not in tick_to_dict(in_play)
    assert tick_to_dict(finished)["winner"] == 2
