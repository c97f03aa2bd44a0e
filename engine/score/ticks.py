"""Score-tick schema v1: the messages a point-by-point score feed delivers, as typed values.

One tick is one JSON object (one line in a recorded tick file). Every tick carries the schema
version, its type, the match id, a per-match sequence number (1, 2, 3, … with no gaps) and the event
time in Unix epoch seconds (UTC). The state machine (`engine.score.machine`) decides whether a tick
is *possible*; this module only decides whether it is *well formed*, so that a malformed message is
refused with a one-line reason naming the field (``point.winner: expected 1 or 2, got 3``).

The full field list is documented in docs/score-ticks.md. Unknown keys are ignored (additive fields
do not bump the version); an unknown ``v`` or ``type`` is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

import orjson

from engine.physics.rules import FINAL_SET_RULES, FinalSetRule, MatchRules

SCHEMA_VERSION: Final = 1

Player: TypeAlias = Literal[1, 2]
SuspendReason: TypeAlias = Literal["rain", "bad_light", "other"]
SnapshotStatus: TypeAlias = Literal["not_started", "in_play", "suspended", "finished"]

SUSPEND_REASONS: Final[tuple[str, ...]] = ("rain", "bad_light", "other")
SNAPSHOT_STATUSES: Final[tuple[str, ...]] = ("not_started", "in_play", "suspended", "finished")


class TickError(ValueError):
    """A malformed tick; the message starts with ``type.field`` (or ``tick`` for the envelope)."""


@dataclass(frozen=True, slots=True)
class MatchStart:
    match_id: str
    seq: int
    ts: float
    rules: MatchRules
    players: tuple[str, str]
    first_server: Player
    type: Literal["match_start"] = "match_start"


@dataclass(frozen=True, slots=True)
class Point:
    match_id: str
    seq: int
    ts: float
    server: Player
    winner: Player
    type: Literal["point"] = "point"


@dataclass(frozen=True, slots=True)
class MtoStart:
    """A medical time-out starts for `player` (play stops until the matching `MtoEnd`)."""

    match_id: str
    seq: int
    ts: float
    player: Player
    type: Literal["mto_start"] = "mto_start"


@dataclass(frozen=True, slots=True)
class MtoEnd:
    match_id: str
    seq: int
    ts: float
    player: Player
    type: Literal["mto_end"] = "mto_end"


@dataclass(frozen=True, slots=True)
class Suspend:
    match_id: str
    seq: int
    ts: float
    reason: SuspendReason
    type: Literal["suspend"] = "suspend"


@dataclass(frozen=True, slots=True)
class Resume:
    match_id: str
    seq: int
    ts: float
    type: Literal["resume"] = "resume"


@dataclass(frozen=True, slots=True)
class Retirement:
    """`player` retired; the opponent wins."""

    match_id: str
    seq: int
    ts: float
    player: Player
    type: Literal["retirement"] = "retirement"


@dataclass(frozen=True, slots=True)
class Walkover:
    """`player` withdrew before the first point; the opponent wins."""

    match_id: str
    seq: int
    ts: float
    player: Player
    type: Literal["walkover"] = "walkover"


@dataclass(frozen=True, slots=True)
class MatchEnd:
    match_id: str
    seq: int
    ts: float
    winner: Player
    type: Literal["match_end"] = "match_end"


@dataclass(frozen=True, slots=True)
class SnapshotScore:
    """Score before the next point: sets won, games and points in the current set/game (points are
    integer counts within the game or tiebreak: 3-3 deuce, 4-3 advantage), who serves next, and the
    completed sets' game scores in order."""

    sets: tuple[int, int]
    games: tuple[int, int]
    points: tuple[int, int]
    server: Player
    set_scores: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The full state of a match, for (re)synchronisation. `winner` is optional (schema v1
    additive field): a finished match's winner when the score alone does not say (retirement)."""

    match_id: str
    seq: int
    ts: float
    rules: MatchRules
    players: tuple[str, str]
    score: SnapshotScore
    status: SnapshotStatus
    mto: Player | None
    winner: Player | None = None
    type: Literal["snapshot"] = "snapshot"


ScoreTick: TypeAlias = (
    MatchStart
    | Point
    | MtoStart
    | MtoEnd
    | Suspend
    | Resume
    | Retirement
    | Walkover
    | MatchEnd
    | Snapshot
)

TICK_TYPES: Final[tuple[str, ...]] = (
    "match_start",
    "point",
    "mto_start",
    "mto_end",
    "suspend",
    "resume",
    "retirement",
    "walkover",
    "match_end",
    "snapshot",
)


# --------------------------------------------------------------------------------------- parsing


def _player(obj: Mapping[str, Any], key: str, where: str) -> Player:
    value = obj.get(key)
    if value == 1 and not isinstance(value, bool):
        return 1
    if value == 2 and not isinstance(value, bool):
        return 2
    raise TickError(f"{where}.{key}: expected 1 or 2, got {value!r}")


def _non_negative_pair(value: Any, where: str) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        raise TickError(f"{where}: expected two non-negative integers, got {value!r}")
    return int(value[0]), int(value[1])


def _rules(obj: Mapping[str, Any], where: str) -> MatchRules:
    raw = obj.get("rules")
    if not isinstance(raw, dict):
        raise TickError(f"{where}.rules: expected an object, got {raw!r}")
    best_of = raw.get("best_of")
    if best_of not in (3, 5) or isinstance(best_of, bool):
        raise TickError(f"{where}.rules.best_of: expected 3 or 5, got {best_of!r}")
    final_set = raw.get("final_set")
    if final_set not in FINAL_SET_RULES:
        raise TickError(
            f"{where}.rules.final_set: expected one of {list(FINAL_SET_RULES)}, got {final_set!r}"
        )
    no_ad = raw.get("no_ad", False)
    if not isinstance(no_ad, bool):
        raise TickError(f"{where}.rules.no_ad: expected true or false, got {no_ad!r}")
    final: FinalSetRule = final_set
    return MatchRules(best_of=int(best_of), final_set=final, no_ad=no_ad)


def _players(obj: Mapping[str, Any], where: str) -> tuple[str, str]:
    raw = obj.get("players")
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(name, str) and name for name in raw)
    ):
        raise TickError(f"{where}.players: expected two non-empty names, got {raw!r}")
    return raw[0], raw[1]


def _score(obj: Mapping[str, Any], where: str) -> SnapshotScore:
    raw = obj.get("score")
    if not isinstance(raw, dict):
        raise TickError(f"{where}.score: expected an object, got {raw!r}")
    set_scores_raw = raw.get("set_scores")
    if not isinstance(set_scores_raw, list):
        raise TickError(f"{where}.score.set_scores: expected a list, got {set_scores_raw!r}")
    set_scores = tuple(
        _non_negative_pair(pair, f"{where}.score.set_scores[{i}]")
        for i, pair in enumerate(set_scores_raw)
    )
    return SnapshotScore(
        sets=_non_negative_pair(raw.get("sets"), f"{where}.score.sets"),
        games=_non_negative_pair(raw.get("games"), f"{where}.score.games"),
        points=_non_negative_pair(raw.get("points"), f"{where}.score.points"),
        server=_player(raw, "server", f"{where}.score"),
        set_scores=set_scores,
    )


def _envelope(obj: Mapping[str, Any]) -> tuple[str, str, int, float]:
    version = obj.get("v")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise TickError(f"tick.v: unsupported schema version {version!r} (expected 1)")
    kind = obj.get("type")
    if kind not in TICK_TYPES:
        raise TickError(f"tick.type: unknown tick type {kind!r}")
    match_id = obj.get("match_id")
    if not isinstance(match_id, str) or not match_id:
        raise TickError(f"{kind}.match_id: expected a non-empty string, got {match_id!r}")
    seq = obj.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise TickError(f"{kind}.seq: expected an integer >= 1, got {seq!r}")
    ts = obj.get("ts")
    if not isinstance(ts, int | float) or isinstance(ts, bool) or not math.isfinite(ts):
        raise TickError(f"{kind}.ts: expected a finite number of seconds, got {ts!r}")
    return str(kind), match_id, seq, float(ts)


def parse_tick(obj: Any) -> ScoreTick:
    """Validate one decoded JSON object and build its tick; TickError names the bad field."""
    if not isinstance(obj, dict):
        raise TickError(f"tick: expected a JSON object, got {type(obj).__name__}")
    kind, match_id, seq, ts = _envelope(obj)
    if kind == "point":
        return Point(match_id, seq, ts, _player(obj, "server", kind), _player(obj, "winner", kind))
    if kind == "match_start":
        return MatchStart(
            match_id,
            seq,
            ts,
            _rules(obj, kind),
            _players(obj, kind),
            _player(obj, "first_server", kind),
        )
    if kind == "mto_start":
        return MtoStart(match_id, seq, ts, _player(obj, "player", kind))
    if kind == "mto_end":
        return MtoEnd(match_id, seq, ts, _player(obj, "player", kind))
    if kind == "suspend":
        reason = obj.get("reason")
        if reason not in SUSPEND_REASONS:
            raise TickError(
                f"suspend.reason: expected one of {list(SUSPEND_REASONS)}, got {reason!r}"
            )
        return Suspend(match_id, seq, ts, reason)
    if kind == "resume":
        return Resume(match_id, seq, ts)
    if kind == "retirement":
        return Retirement(match_id, seq, ts, _player(obj, "player", kind))
    if kind == "walkover":
        return Walkover(match_id, seq, ts, _player(obj, "player", kind))
    if kind == "match_end":
        return MatchEnd(match_id, seq, ts, _player(obj, "winner", kind))
    return _parse_snapshot(obj, match_id, seq, ts)


def _parse_snapshot(obj: Mapping[str, Any], match_id: str, seq: int, ts: float) -> Snapshot:
    status = obj.get("status")
    if status not in SNAPSHOT_STATUSES:
        raise TickError(
            f"snapshot.status: expected one of {list(SNAPSHOT_STATUSES)}, got {status!r}"
        )
    mto = None if obj.get("mto") is None else _player(obj, "mto", "snapshot")
    winner = None if obj.get("winner") is None else _player(obj, "winner", "snapshot")
    return Snapshot(
        match_id,
        seq,
        ts,
        _rules(obj, "snapshot"),
        _players(obj, "snapshot"),
        _score(obj, "snapshot"),
        status,
        mto,
        winner,
    )


def decode_tick(line: bytes | str) -> ScoreTick:
    """Parse one JSON text (a tick-file line or a WebSocket frame) into a tick."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise TickError(f"tick: not valid JSON ({exc})") from exc
    return parse_tick(obj)


# -------------------------------------------------------------------------------------- encoding


def rules_to_dict(rules: MatchRules) -> dict[str, Any]:
    return {"best_of": rules.best_of, "final_set": rules.final_set, "no_ad": rules.no_ad}


def tick_to_dict(tick: ScoreTick) -> dict[str, Any]:
    """The JSON object of a tick, keys in a fixed order (same tick, same bytes)."""
    out: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "type": tick.type,
        "match_id": tick.match_id,
        "seq": tick.seq,
        "ts": tick.ts,
    }
    if isinstance(tick, Point):
        out["server"] = tick.server
        out["winner"] = tick.winner
    elif isinstance(tick, MatchStart):
        out["rules"] = rules_to_dict(tick.rules)
        out["players"] = list(tick.players)
        out["first_server"] = tick.first_server
    elif isinstance(tick, MtoStart | MtoEnd | Retirement | Walkover):
        out["player"] = tick.player
    elif isinstance(tick, Suspend):
        out["reason"] = tick.reason
    elif isinstance(tick, MatchEnd):
        out["winner"] = tick.winner
    elif isinstance(tick, Snapshot):
        out["rules"] = rules_to_dict(tick.rules)
        out["players"] = list(tick.players)
        score = tick.score
        out["score"] = {
            "sets": list(score.sets),
            "games": list(score.games),
            "points": list(score.points),
            "server": score.server,
            "set_scores": [list(pair) for pair in score.set_scores],
        }
        out["status"] = tick.status
        out["mto"] = tick.mto
        if tick.winner is not None:
            out["winner"] = tick.winner
    return out


def encode_tick(tick: ScoreTick) -> bytes:
    """One tick as compact JSON bytes, without the trailing newline."""
    return orjson.dumps(tick_to_dict(tick))
