"""Betfair historical stream format: market definitions, `mcm` lines and deterministic gzip files.

The layout follows the real file (one `{"op":"mcm","clk","pt","mc":[…]}` object per line;
`marketDefinition` whenever status, in-play flag or bet delay change; the first line is an image
with `img: true`). Ids are derived from the match id so every build names a match the same way:
market "1.9" + 8 digits, event 8 digits, and one selection id per player (from the Sackmann id,
so a player keeps it across matches, as on Betfair).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from pathlib import Path
from typing import Any

import orjson

from replay.corpus.slams import MatchInfo

_COUNTRY = {"ausopen": "AU", "frenchopen": "FR", "wimbledon": "GB", "usopen": "US"}


def _digits(text: str, count: int) -> int:
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return int(value % (10**count))


def market_id_for(match_id: str) -> str:
    return f"1.9{_digits('market:' + match_id, 8):08d}"


def event_id_for(match_id: str) -> str:
    return f"{30000000 + _digits('event:' + match_id, 7)}"


def selection_ids_for(info: MatchInfo) -> tuple[int, int]:
    """Stable per-player ids (distinct within the match)."""
    first = 1_000_000 + _digits(f"player:{info.tour}:{info.p1_sackmann_id or info.player1}", 7)
    second = 1_000_000 + _digits(f"player:{info.tour}:{info.p2_sackmann_id or info.player2}", 7)
    if second == first:
        second += 1
    return first, second


def _iso(ts: float) -> str:
    moment = dt.datetime.fromtimestamp(round(ts), tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _surname(name: str) -> str:
    return name.rsplit(maxsplit=1)[-1] if name.strip() else name


def market_definition(
    info: MatchInfo,
    ids: tuple[int, int],
    *,
    scheduled_ts: float,
    status: str,
    in_play: bool,
    version: int,
    winner: int | None = None,
    settled_ts: float | None = None,
) -> dict[str, Any]:
    """A MATCH_ODDS definition with the fields the real file carries."""
    closed = status == "CLOSED"
    runners = []
    for position, (sel, name) in enumerate(zip(ids, (info.player1, info.player2), strict=True)):
        runner_status = "ACTIVE"
        if closed and winner is not None:
            runner_status = "WINNER" if position + 1 == winner else "LOSER"
        runners.append(
            {"status": runner_status, "sortPriority": position + 1, "id": sel, "name": name}
        )
    definition: dict[str, Any] = {
        "bspMarket": False,
        "turnInPlayEnabled": True,
        "persistenceEnabled": True,
        "marketBaseRate": 5.0,
        "eventId": event_id_for(info.match_id),
        "eventTypeId": "2",
        "numberOfWinners": 1,
        "bettingType": "ODDS",
        "marketType": "MATCH_ODDS",
        "marketTime": _iso(scheduled_ts),
        "suspendTime": _iso(scheduled_ts),
        "bspReconciled": False,
        "complete": True,
        "inPlay": in_play,
        "crossMatching": not closed,
        "runnersVoidable": False,
        "numberOfActiveRunners": 0 if closed else 2,
        "betDelay": 5 if in_play else 0,
        "status": status,
        "runners": runners,
        "regulators": ["MR_INT"],
        "countryCode": _COUNTRY.get(info.slam, "GB"),
        "discountAllowed": True,
        "timezone": "UTC",
        "openDate": _iso(scheduled_ts),
        "version": version,
        "name": "Match Odds",
        "eventName": f"{_surname(info.player1)} v {_surname(info.player2)}",
    }
    if closed and settled_ts is not None:
        definition["settledTime"] = _iso(settled_ts)
    return definition


def mcm_line(
    market_id: str,
    clk: int,
    pt_ms: int,
    rc: list[dict[str, Any]],
    *,
    definition: dict[str, Any] | None = None,
    image: bool = False,
) -> bytes:
    """One stream line (no trailing newline)."""
    change: dict[str, Any] = {"id": market_id}
    if definition is not None:
        change["marketDefinition"] = definition
    change["rc"] = rc
    if image:
        change["img"] = True
    return orjson.dumps({"op": "mcm", "clk": str(clk), "pt": pt_ms, "mc": [change]})


def write_stream_file(path: Path, lines: list[bytes], compress_level: int = 6) -> int:
    """Write lines as a gzip file with a fixed header (no name, mtime 0): same lines, same bytes."""
    payload = b"\n".join(lines) + b"\n"
    with (
        path.open("wb") as raw,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=compress_level
        ) as out,
    ):
        out.write(payload)
    return len(lines)
