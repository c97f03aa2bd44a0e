"""Historical sources merged into one time-ordered event stream.

A replay feeds the engine exactly what the daemon's sources would have delivered, in the order
they would have delivered it: Betfair stream messages (publish time `pt`, epoch ms) and score
ticks (`ts`, epoch s) from any number of files, merged lazily by time with `heapq.merge`, so a
day of files is streamed, never loaded whole. Equal times are broken by a stable key — market
before score (the book a point is priced against is the one already published), then the source's
position in the input list, then the line's position in its file — so the same inputs always give
the same sequence. A file whose own times go backwards is replayed in file order and the
regressions are counted (the simulated clock holds still on a late event and counts it too).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, NamedTuple

from adapters.betfair.historical import HistoricalReader
from adapters.betfair.messages import ChangeMessage
from adapters.scores.tickfile import ReadStats, read_ticks
from engine.logs import get_logger

_log = get_logger("replay.sources")


class EventKind(IntEnum):
    """Tie-break order at equal times: market data first, then score ticks."""

    MARKET = 0
    SCORE = 1


class ReplayEvent(NamedTuple):
    """One event of the merged stream. `ts` in epoch seconds; (ts, kind, source, seq) is unique
    and is the merge key. `payload` is a `ChangeMessage` (MARKET) or a `ScoreTick` (SCORE)."""

    ts: float
    kind: EventKind
    source: int
    seq: int
    payload: Any


@dataclass(slots=True)
class SourceStats:
    """What one source produced: events, lines skipped (malformed or without a time) and how
    often its own clock went backwards."""

    path: str
    kind: str
    events: int = 0
    skipped: int = 0
    out_of_order: int = 0
    malformed: dict[str, int] = field(default_factory=dict)


def market_events(
    path: str | Path, source: int, stats: SourceStats | None = None
) -> Iterator[ReplayEvent]:
    """Change messages of a Betfair historical file (plain/gz/bz2/xz), in file order.

    Only `mcm` messages with a publish time reach the engine; connection/status lines and order
    (`ocm`) lines are counted as skipped — a historical market file has no orders of ours.
    """
    counters = stats if stats is not None else SourceStats(str(path), "market")
    reader = HistoricalReader(path)
    last = float("-inf")
    for record in reader:
        message = record.message
        if not isinstance(message, ChangeMessage) or message.op != "mcm":
            counters.skipped += 1
            continue
        ts = message.pt / 1000.0
        if ts < last:
            counters.out_of_order += 1
        else:
            last = ts
        counters.events += 1
        yield ReplayEvent(ts, EventKind.MARKET, source, record.line_no, message)
    counters.malformed["line"] = reader.stats.malformed
    counters.skipped += reader.stats.malformed


def score_events(
    path: str | Path, source: int, stats: SourceStats | None = None
) -> Iterator[ReplayEvent]:
    """Score ticks (schema v1, plain or .gz) of a tick file, in file order."""
    counters = stats if stats is not None else SourceStats(str(path), "score")
    read_stats = ReadStats()
    last = float("-inf")
    for seq, tick in enumerate(read_ticks(path, read_stats)):
        if tick.ts < last:
            counters.out_of_order += 1
        else:
            last = tick.ts
        counters.events += 1
        yield ReplayEvent(tick.ts, EventKind.SCORE, source, seq, tick)
    counters.malformed = dict(read_stats.malformed)
    counters.skipped += read_stats.malformed_total


def merge_events(streams: Iterable[Iterator[ReplayEvent]]) -> Iterator[ReplayEvent]:
    """Merge per-source streams by (ts, kind, source, seq); lazy, O(number of sources) memory."""
    return heapq.merge(*streams, key=_merge_key)


def _merge_key(event: ReplayEvent) -> tuple[float, int, int, int]:
    return (event.ts, int(event.kind), event.source, event.seq)


@dataclass(frozen=True, slots=True)
class SourceSet:
    """The files of one replay task: Betfair market files and score-tick files."""

    market_files: tuple[str, ...]
    tick_files: tuple[str, ...] = ()

    def open(self) -> tuple[Iterator[ReplayEvent], list[SourceStats]]:
        """The merged event stream and one live `SourceStats` per file (filled as it is read).
        Sources are numbered market files first, then tick files, in the given order."""
        stats: list[SourceStats] = []
        streams: list[Iterator[ReplayEvent]] = []
        for path in self.market_files:
            counters = SourceStats(path, "market")
            stats.append(counters)
            streams.append(market_events(path, len(streams), counters))
        for path in self.tick_files:
            counters = SourceStats(path, "score")
            stats.append(counters)
            streams.append(score_events(path, len(streams), counters))
        return merge_events(streams), stats
