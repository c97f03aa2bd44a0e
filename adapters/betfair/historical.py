"""Historical Betfair stream files: one JSON message per line, plain, gzip, bzip2 or xz.

The compression is sniffed from the first bytes (Betfair's own downloads are .bz2 without a
reliable extension once renamed). Files are streamed line by line, never loaded whole. A line
that does not decode is counted, logged with its line number and skipped.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import queue
import threading
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from adapters.betfair.messages import ChangeMessage, DecodeError, StreamMessage, decode_message
from adapters.betfair.processor import StreamProcessor
from engine.logs import get_logger
from engine.market import MarketUpdate

_log = get_logger("betfair.historical")

_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_CHUNK = 1 << 16  # compressed bytes per read: small enough that parsing starts after the first
# bzip2 block instead of after a quarter-megabyte of input (a whole small file), so the helper
# thread overlaps decompression with parsing (benchmarks/bench_stream.py, tennis .bz2: +12%)
_QUEUE_BLOCKS = 16  # decompressed blocks buffered ahead of the parser


def detect_compression(path: str | Path) -> str:
    """'gzip', 'bzip2', 'xz' or 'plain', from the file's magic bytes (not its name)."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_BZIP2_MAGIC):
        return "bzip2"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    return "plain"


def open_stream_file(path: str | Path) -> io.BufferedIOBase:
    """Open a stream file for binary reading, decompressing as its magic bytes say."""
    kind = detect_compression(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    return open(path, "rb")


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


def _new_decompressor(kind: str) -> _Decompressor:
    if kind == "gzip":
        return zlib.decompressobj(wbits=31)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _decompressed_blocks(path: Path, kind: str) -> Iterator[bytes]:
    """Decompressed blocks of a file; concatenated members are followed, truncation is logged."""
    with open(path, "rb") as handle:
        if kind == "plain":
            while block := handle.read(_CHUNK):
                yield block
            return
        decompressor = _new_decompressor(kind)
        while raw := handle.read(_CHUNK):
            while raw:
                if decompressor.eof:  # another member follows (pigz/pbzip2, appended files)
                    decompressor = _new_decompressor(kind)
                yield decompressor.decompress(raw)
                raw = decompressor.unused_data if decompressor.eof else b""
        if not decompressor.eof:
            _log.warning("compressed stream file ends early (truncated?)", path=str(path))


def _threaded(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Run a block iterator in a thread (zlib/bz2/lzma release the GIL: decompression overlaps
    parsing). Errors are passed through to the consumer; closing the consumer stops the thread."""
    channel: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=_QUEUE_BLOCKS)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                while not stop.is_set():
                    try:
                        channel.put(block, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            channel.put(None)
        except BaseException as exc:  # handed to the consumer, which decides
            channel.put(exc)

    worker = threading.Thread(target=produce, name="stream-file-reader", daemon=True)
    worker.start()
    try:
        while (item := channel.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def iter_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line) for every non-blank line, streamed block by block.

    Compressed files are decompressed in a helper thread. A corrupt compressed stream is logged
    and ends the file (the lines before it are delivered); it never raises.
    """
    target = Path(path)
    kind = detect_compression(target)
    blocks = _decompressed_blocks(target, kind)
    source = blocks if kind == "plain" else _threaded(blocks)
    line_no = 0
    tail = b""
    try:
        for block in source:
            lines = (tail + block).split(b"\n") if tail else block.split(b"\n")
            tail = lines.pop()
            for line in lines:
                line_no += 1
                if line and not line.isspace():
                    yield line_no, line
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        _log.error("unreadable compressed data", path=str(target), error=str(exc))
    finally:
        if isinstance(source, Generator):
            source.close()  # stops the reader thread when the consumer stops early
    if tail and not tail.isspace():
        yield line_no + 1, tail


class HistoricalRecord(NamedTuple):
    """One decoded line: its number, publish time (None for connection/status lines) and message."""

    line_no: int
    pt: int | None
    message: StreamMessage


@dataclass(slots=True)
class ReaderStats:
    """What a reader saw: lines read (non-blank), lines decoded, malformed lines skipped."""

    lines: int = 0
    messages: int = 0
    malformed: int = 0


class HistoricalReader:
    """Iterates a stream file as `HistoricalRecord`s; malformed lines are logged and skipped."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"stream file not found: {self.path}")
        self.stats = ReaderStats()

    def __iter__(self) -> Iterator[HistoricalRecord]:
        stats = self.stats
        for line_no, line in iter_lines(self.path):
            stats.lines += 1
            message = decode_message(line)
            if isinstance(message, DecodeError):
                stats.malformed += 1
                _log.warning(
                    "malformed line skipped",
                    path=str(self.path),
                    line_no=line_no,
                    kind=message.kind,
                    detail=message.detail,
                    snippet=message.snippet,
                )
                continue
            stats.messages += 1
            pt = message.pt if isinstance(message, ChangeMessage) else None
            yield HistoricalRecord(line_no, pt, message)


def replay_market_updates(
    path: str | Path, processor: StreamProcessor | None = None
) -> Iterator[MarketUpdate]:
    """Every market update a file produces, in file order (the processor keeps the books)."""
    process_line = (processor if processor is not None else StreamProcessor()).process_line
    for line_no, line in iter_lines(path):
        yield from process_line(line, line_no)
