"""Exchange Stream API messages: decode one line (orjson) into a typed message, never raising.

The stream (live socket or historical file) carries CRLF-separated JSON objects whose ``op`` is
``connection``, ``status``, ``mcm`` (market changes), ``ocm`` (order changes) or, in some files,
``rcm``/``ccm`` (race / cricket changes). `decode_message` turns a line into one of the typed
messages below or a `DecodeError` value: the caller's loop counts and logs errors instead of
catching exceptions. Change payloads (``mc``/``oc`` entries) stay as decoded dicts because the
cache reads them field by field once; copying them into objects would double the hot-path cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

# Change types (``ct``) of mcm/ocm; a missing ct means UPDATE.
SUB_IMAGE: Final = "SUB_IMAGE"
RESUB_DELTA: Final = "RESUB_DELTA"
HEARTBEAT: Final = "HEARTBEAT"
UPDATE: Final = "UPDATE"
CHANGE_TYPES: Final = frozenset({SUB_IMAGE, RESUB_DELTA, HEARTBEAT, UPDATE})

# ops whose payload list lives under this key
CHANGE_KEYS: Final[dict[str, str]] = {"mcm": "mc", "ocm": "oc", "rcm": "rc", "ccm": "cc"}

_SNIPPET = 120


@dataclass(slots=True)
class ConnectionMessage:
    """First message on a socket: the server's connection id."""

    id: int | None
    connection_id: str | None


@dataclass(slots=True)
class StatusMessage:
    """Reply to a request (authentication, subscription, heartbeat) or an error report.

    What each error code means for a live client is decided in stream_protocol (ERROR_ACTIONS).
    """

    id: int | None
    status_code: str | None
    error_code: str | None
    error_message: str | None
    connection_closed: bool
    connections_available: int | None

    @property
    def is_failure(self) -> bool:
        """True for statusCode FAILURE (error_code says why)."""
        return self.status_code == "FAILURE"


@dataclass(slots=True)
class ChangeMessage:
    """An mcm/ocm/rcm/ccm message; `changes` holds its mc/oc/rc/cc entries as decoded dicts.

    `status` is the stream-health field of change messages (None normally, 503 when Betfair
    flags its own data as stale); `con` conflation is per market change, inside `changes`.
    """

    op: str
    id: int | None
    ct: str
    pt: int
    clk: str | None
    initial_clk: str | None
    changes: list[Any]
    status: int | None = None
    conflate_ms: int | None = None
    heartbeat_ms: int | None = None
    segment_type: str | None = None

    @property
    def is_heartbeat(self) -> bool:
        """True for ct HEARTBEAT (carries a clk, never changes)."""
        return self.ct == HEARTBEAT


@dataclass(slots=True)
class UnknownMessage:
    """A well-formed JSON object with an op this adapter does not handle (kept, counted)."""

    op: str
    data: dict[str, Any]


@dataclass(slots=True)
class DecodeError:
    """A line that is not a usable stream message: `kind` is json, not_object, no_op or field."""

    kind: str
    detail: str
    snippet: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail} ({self.snippet!r})"


StreamMessage = ConnectionMessage | StatusMessage | ChangeMessage | UnknownMessage


def snippet(raw: bytes | str) -> str:
    """The start of a raw line, for log messages about it."""
    text = raw if isinstance(raw, str) else raw[:_SNIPPET].decode("utf-8", "replace")
    return text[:_SNIPPET].rstrip()


def decode_message(raw: bytes | str) -> StreamMessage | DecodeError:
    """Decode one JSON line into a typed message or a `DecodeError` (never raises)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return DecodeError("json", str(exc).split(":", 1)[0], snippet(raw))
    if not isinstance(data, dict):
        return DecodeError("not_object", f"got {type(data).__name__}", snippet(raw))
    message = message_from_dict(data)
    if isinstance(message, DecodeError):
        message.snippet = snippet(raw)
    return message


def message_from_dict(data: dict[str, Any]) -> StreamMessage | DecodeError:
    """Type an already-decoded message object (the hot path of decode_message)."""
    op = data.get("op")
    key = CHANGE_KEYS.get(op) if isinstance(op, str) else None
    if key is not None:
        return _change_message(op, key, data)  # type: ignore[arg-type]
    if op == "status":
        return _status_message(data)
    if op == "connection":
        connection_id = data.get("connectionId")
        return ConnectionMessage(_optional_int(data.get("id")), _optional_str(connection_id))
    if isinstance(op, str):
        return UnknownMessage(op, data)
    return DecodeError("no_op", "message has no string 'op'", "")


def _change_message(op: str, key: str, data: dict[str, Any]) -> ChangeMessage | DecodeError:
    pt = data.get("pt")
    if type(pt) is not int:
        return DecodeError("field", f"pt: {pt!r} is not an integer", "")
    ct = data.get("ct", UPDATE)
    if ct not in CHANGE_TYPES:
        return DecodeError("field", f"ct: {ct!r} is not a known change type", "")
    changes = data.get(key)
    if changes is None:
        changes = []
    elif type(changes) is not list:
        return DecodeError("field", f"{key}: not a list", "")
    clk = data.get("clk")
    initial_clk = data.get("initialClk")
    return ChangeMessage(
        op,
        _optional_int(data.get("id")),
        ct,
        pt,
        None if clk is None else str(clk),
        None if initial_clk is None else str(initial_clk),
        changes,
        _optional_int(data.get("status")),
        _optional_int(data.get("conflateMs")),
        _optional_int(data.get("heartbeatMs")),
        _optional_str(data.get("segmentType")),
    )


def _status_message(data: dict[str, Any]) -> StatusMessage:
    return StatusMessage(
        id=_optional_int(data.get("id")),
        status_code=_optional_str(data.get("statusCode")),
        error_code=_optional_str(data.get("errorCode")),
        error_message=_optional_str(data.get("errorMessage")),
        connection_closed=bool(data.get("connectionClosed")),
        connections_available=_optional_int(data.get("connectionsAvailable")),
    )


def _optional_int(value: Any) -> int | None:
    return value if type(value) is int else None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def encode_request(request: dict[str, Any]) -> bytes:
    """Serialise a request (authentication, subscription, heartbeat) as one CRLF-ended line."""
    return orjson.dumps(request) + b"\r\n"
