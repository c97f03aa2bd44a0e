"""The bundled sample day, prepared for demo mode.

data/sample holds five recorded matches of one day (Wimbledon 2013, 1 July) spread over nine hours.
The demo plays them side by side: every market's recording (and its score ticks, by the same
amount) is shifted so that all five start together, then merged into one timeline the loopback
exchange publishes. A market whose clock moved keeps its definition (marketTime), so the match
registry still links by names and start time (tolerance 12 h). Score ticks are published by
`publish_ticks` on the same event clock as the exchange, so prices and points arrive in the order
and at the (accelerated) pace they were recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from adapters.betfair.loopback.recording import RecordedChange, Recording
from adapters.scores.loopback import LoopbackScoreServer
from adapters.scores.tickfile import read_ticks
from engine.core.accelerated import AcceleratedClock
from engine.core.match import MatchContext
from engine.logs import get_logger
from engine.score.ticks import ScoreTick

_log = get_logger("app.demo")


@dataclass(frozen=True, slots=True)
class DemoMatch:
    match_id: str
    market_id: str
    shift_s: float
    context: MatchContext
    n_points: int


@dataclass(frozen=True, slots=True)
class DemoDay:
    """One merged market timeline, the score ticks on the same clock, and each match's context."""

    recording: Recording
    ticks: list[ScoreTick]
    matches: dict[str, DemoMatch]

    @property
    def origin_s(self) -> float:
        """Event time (Unix seconds) of the first market message."""
        return self.recording.messages[0].pt / 1000.0

    @property
    def end_s(self) -> float:
        return self.recording.messages[-1].pt / 1000.0

    def definitions(self) -> dict[str, dict[str, Any]]:
        """The last market definition of each market (what the loopback catalogue lists)."""
        found: dict[str, dict[str, Any]] = {}
        for message in self.recording.messages:
            for change in message.changes:
                definition = change.get("marketDefinition")
                if isinstance(definition, dict):
                    found[str(change.get("id"))] = definition
        return found

    def context(self, match_id: str) -> MatchContext | None:
        match = self.matches.get(match_id)
        return match.context if match is not None else None


def load_demo_day(folder: str | Path, match_ids: tuple[str, ...] = ()) -> DemoDay:
    """Read data/sample (matches.jsonl + per-match stream file, ticks and match.json)."""
    root = Path(folder)
    index = root / "matches.jsonl"
    if not index.is_file():
        raise FileNotFoundError(
            f"daemon.demo_data: {index} not found (run from the repository root)"
        )
    entries = [orjson.loads(line) for line in index.read_bytes().splitlines() if line.strip()]
    if match_ids:
        entries = [e for e in entries if e["match_id"] in match_ids]
        if not entries:
            raise ValueError(f"match: none of {list(match_ids)} is in {index}")
    recordings = [Recording.load(root / e["stream"]) for e in entries]
    origin = min(r.messages[0].pt for r in recordings)
    messages: list[RecordedChange] = []
    ticks: list[ScoreTick] = []
    matches: dict[str, DemoMatch] = {}
    for entry, recording in zip(entries, recordings, strict=True):
        shift_ms = origin - recording.messages[0].pt
        messages.extend(RecordedChange(m.pt + shift_ms, m.changes) for m in recording.messages)
        shift_s = shift_ms / 1000.0
        ticks.extend(
            dataclasses.replace(t, ts=t.ts + shift_s) for t in read_ticks(root / entry["ticks"])
        )
        meta = orjson.loads((root / entry["match"]).read_bytes())
        context = MatchContext(str(meta["tour"]).lower(), str(meta["surface"]).lower())
        matches[entry["match_id"]] = DemoMatch(
            entry["match_id"], entry["market_id"], shift_s, context, int(entry["n_points"])
        )
    messages.sort(key=lambda m: m.pt)  # stable: one market's order is kept
    ticks.sort(key=lambda t: t.ts)
    return DemoDay(Recording(messages, source=str(root)), ticks, matches)


async def publish_ticks(
    server: LoopbackScoreServer, ticks: list[ScoreTick], clock: AcceleratedClock
) -> int:
    """Publish each tick when the (started) event clock reaches its time; returns the count."""
    published = 0
    for tick in ticks:
        delay = clock.wall_delay(tick.ts)
        if delay > 0:
            await asyncio.sleep(delay)
        server.publish(tick)
        published += 1
    _log.info("demo_ticks_published", ticks=published)
    return published
