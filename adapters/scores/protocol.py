"""The small WebSocket protocol our score provider speaks (text frames, one JSON object each).

Client → server:

- ``{"op": "subscribe", "matches": ["m1", "m2"] | "all", "from_seq": {"m1": 57},
  "snapshot": ["m2"]}``
  For each match: with ``from_seq`` n, the server first replays the match's ticks with seq > n; a
  match listed in ``snapshot`` first gets a snapshot tick (the state after the last tick the
  server has, carrying that tick's seq), then the ticks after it; otherwise the server replays
  from seq 1. Then it streams live ticks. A new subscribe replaces the previous one.
- ``{"op": "snapshot", "matches": ["m2"]}`` — send a snapshot of each now (resynchronise an
  untrusted match without reconnecting).

Server → client:

- a score tick (schema v1, docs/score-ticks.md) — recognised by its ``"v"`` key;
- ``{"op": "subscribed", "matches": [...] | "all"}`` — the subscription is in place;
- ``{"op": "heartbeat", "ts": 1700000000.0}`` — the feed is alive (sent when idle);
- ``{"op": "error", "message": "..."}`` — a request the server could not take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import orjson

MatchSelection: TypeAlias = tuple[str, ...] | Literal["all"]


class ProtocolError(ValueError):
    """A control message that does not follow the protocol; the message names the field."""


@dataclass(frozen=True, slots=True)
class Subscribe:
    matches: MatchSelection
    from_seq: dict[str, int] = field(default_factory=dict)
    snapshot: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    matches: tuple[str, ...]


def _match_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(m, str) and m for m in value):
        raise ProtocolError(f"{where}: expected a list of match ids, got {value!r}")
    return tuple(value)


def parse_request(text: str | bytes) -> Subscribe | SnapshotRequest:
    """A client request frame; ProtocolError for anything else."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"request: not valid JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise ProtocolError("request: expected a JSON object")
    op = obj.get("op")
    if op == "snapshot":
        return SnapshotRequest(_match_list(obj.get("matches"), "snapshot.matches"))
    if op != "subscribe":
        raise ProtocolError(f"request.op: unknown operation {op!r}")
    raw_matches = obj.get("matches")
    matches: MatchSelection = (
        "all" if raw_matches == "all" else _match_list(raw_matches, "subscribe.matches")
    )
    raw_from = obj.get("from_seq", {})
    if not isinstance(raw_from, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in raw_from.values()
    ):
        raise ProtocolError(
            f"subscribe.from_seq: expected {{match id: seq >= 0}}, got {raw_from!r}"
        )
    snapshot = _match_list(obj.get("snapshot", []), "subscribe.snapshot")
    return Subscribe(matches, {str(k): int(v) for k, v in raw_from.items()}, snapshot)


def encode_request(request: Subscribe | SnapshotRequest) -> str:
    if isinstance(request, SnapshotRequest):
        return orjson.dumps({"op": "snapshot", "matches": list(request.matches)}).decode()
    matches: Any = request.matches if request.matches == "all" else list(request.matches)
    return orjson.dumps(
        {
            "op": "subscribe",
            "matches": matches,
            "from_seq": request.from_seq,
            "snapshot": list(request.snapshot),
        }
    ).decode()


def control(op: Literal["subscribed", "heartbeat", "error"], **fields: Any) -> str:
    """A server control frame."""
    return orjson.dumps({"op": op, **fields}).decode()
