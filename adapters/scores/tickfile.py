"""Recorded score-tick files: JSON lines (schema v1), plain or gzip (`.gz`).

The writer is deterministic — the same ticks give the same bytes, gzip included (no timestamp or
file name in the gzip header) — so corpus builds can be compared byte for byte. The reader never
stops on a bad line: a malformed line is logged with its line number, counted and skipped.
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from engine.logs import get_logger
from engine.score.ticks import ScoreTick, TickError, decode_tick, encode_tick

_log = get_logger("scores.tickfile")


def _is_gzip(path: Path) -> bool:
    return path.suffix == ".gz"


class TickFileWriter:
    """Append ticks to a JSON-lines file, one tick per line (gzip when the name ends in .gz)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._raw: IO[bytes] = self.path.open("wb")
        self._out: IO[bytes] | gzip.GzipFile = self._raw
        if _is_gzip(self.path):
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        self.count = 0

    def write(self, tick: ScoreTick) -> None:
        self._out.write(encode_tick(tick) + b"\n")
        self.count += 1

    def write_all(self, ticks: Iterable[ScoreTick]) -> None:
        for tick in ticks:
            self.write(tick)

    def close(self) -> None:
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_ticks(path: str | Path, ticks: Iterable[ScoreTick]) -> int:
    """Write `ticks` to `path` (gzip for .gz); returns how many were written."""
    with TickFileWriter(path) as writer:
        writer.write_all(ticks)
        return writer.count


@dataclass
class ReadStats:
    """What a read produced: good ticks, and malformed lines by reason (the field that was bad)."""

    lines: int = 0
    ticks: int = 0
    malformed: Counter[str] = field(default_factory=Counter)

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


def _open_text_lines(path: Path) -> Iterator[bytes]:
    if _is_gzip(path):
        with gzip.open(path, "rb") as compressed:
            yield from compressed
    else:
        with path.open("rb") as plain:
            yield from plain


def read_ticks(path: str | Path, stats: ReadStats | None = None) -> Iterator[ScoreTick]:
    """Yield the well-formed ticks of a tick file in file order; blank lines are ignored.

    Malformed lines (bad JSON, unknown type, bad field) are logged with the line number and the
    reason, counted in `stats` under the reason's field prefix, and skipped. A truncated gzip file
    ends the read with a logged error, after yielding everything before the damage.
    """
    target = Path(path)
    counters = stats if stats is not None else ReadStats()
    line_no = 0
    try:
        for raw in _open_text_lines(target):
            line_no += 1
            counters.lines += 1
            line = raw.strip()
            if not line:
                continue
            try:
                tick = decode_tick(line)
            except TickError as exc:
                reason = str(exc).split(":", 1)[0]
                counters.malformed[reason] += 1
                _log.warning("malformed_tick_line", path=str(target), line=line_no, reason=str(exc))
                continue
            counters.ticks += 1
            yield tick
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        counters.malformed["file"] += 1
        _log.error("tick_file_damaged", path=str(target), after_line=line_no, reason=str(exc))
