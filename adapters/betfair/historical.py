"""Historical Betfair stream files: one JSON message per line, plain, gzip, bzip2 or xz.

The compression is sniffed from the first bytes (Betfair's own downloads are .bz2 without a
reliable extension once renamed). Files are streamed block by block, never loaded whole. A line
that does not decode is counted, logged with its line number and skipped.

Decompression runs beside parsing: bzip2 and xz (the slow codecs: bzip2 costs about as much CPU
per line as parsing it) in the system's ``bzip2``/``xz`` as a child process writing to a pipe,
which shares no GIL with us; gzip, or any codec when the tool is missing, in a helper thread.
"""

from __future__ import annotations

import bz2
import contextlib
import fcntl
import gzip
import io
import lzma
import os
import queue
import shutil
import subprocess
import tempfile
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
_PLAIN_READ = 1 << 20  # bytes per read of an uncompressed file
_PIPE_SIZE = 1 << 20  # pipe buffer asked of the kernel: a whole 900 kB bzip2 block fits
_PIPE_READ = 1 << 20  # bytes per read from the decompressor's pipe (returns what is there)
_TOOL_MESSAGE = 4096  # bytes of the tool's error output kept for the log
_TOOLS = {"bzip2": "bzip2", "xz": "xz"}  # slow codecs run by the system tool when installed
# Compressed bytes per read, in-process: small enough that parsing starts after the first
# bzip2 block instead of after a quarter-megabyte of input (a whole small file), so the helper
# thread overlaps decompression with parsing (benchmarks/bench_stream.py, tennis .bz2: +12%)
_CHUNK = 1 << 16
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
            while block := handle.read(_PLAIN_READ):
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


class ToolDecompressionError(OSError):
    """The external decompressor exited with an error (corrupt or truncated input)."""


def _tool_blocks(path: Path, tool: str) -> Iterator[bytes]:
    """Blocks decompressed by `tool -dc` in a child process, read from its stdout pipe.

    No GIL is shared with the child, so decompression runs fully in parallel with parsing. The
    pipe is enlarged to hold a whole bzip2 block, so the child decodes the next block while this
    process parses the last one; the pipe bounds memory (the child blocks when it is full).
    Closing the generator early kills the child. A non-zero exit raises ToolDecompressionError
    after every byte the child produced has been yielded.
    """
    with open(path, "rb") as source, tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(  # fixed argv, no shell; the tool was found by shutil.which
            [tool, "-dc"], stdin=source, stdout=subprocess.PIPE, stderr=errors
        )
        assert child.stdout is not None
        try:
            fd = child.stdout.fileno()
            with contextlib.suppress(OSError, AttributeError):  # Linux only; a small pipe works
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
            read = os.read
            while block := read(fd, _PIPE_READ):
                yield block
            status = child.wait()
        finally:
            if child.poll() is None:  # the consumer stopped early
                child.kill()
                child.wait()
            child.stdout.close()
        if status != 0:
            errors.seek(0)
            message = errors.read(_TOOL_MESSAGE).decode("utf-8", "replace").strip()
            raise ToolDecompressionError(f"{Path(tool).name} exit {status}: {message}")


def _blocks(path: Path, kind: str, external: bool) -> Iterator[bytes]:
    """The decompressed blocks of a file, from the fastest source available for its kind."""
    if kind == "plain":
        return _decompressed_blocks(path, kind)
    tool = shutil.which(_TOOLS[kind]) if external and kind in _TOOLS else None
    if tool is not None:
        return _tool_blocks(path, tool)
    return _threaded(_decompressed_blocks(path, kind))


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


def _line_blocks(path: Path, external: bool = True) -> Iterator[list[bytes]]:
    """The file's lines, one list per decompressed block, blank lines included (they count).

    Splitting a whole block at once (one C call) keeps per-line work out of this loop. A corrupt
    compressed stream is logged and ends the file (the lines before it are delivered).
    """
    kind = detect_compression(path)
    source = _blocks(path, kind, external)
    tail = b""
    try:
        for block in source:
            lines = (tail + block).split(b"\n") if tail else block.split(b"\n")
            tail = lines.pop()
            if lines:
                yield lines
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        _log.error("unreadable compressed data", path=str(path), error=str(exc))
    finally:
        if isinstance(source, Generator):
            source.close()  # stops the reader thread or child when the consumer stops early
    if tail:
        yield [tail]


def iter_lines(path: str | Path, *, external: bool = True) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line) for every non-blank line, streamed block by block.

    bzip2 and xz files are decompressed by the system's ``bzip2``/``xz`` in a child process when
    it is installed (``external=False`` or no tool: in-process, in a helper thread); gzip always
    in a helper thread. A corrupt compressed stream is logged and ends the file (the lines before
    it are delivered); it never raises.
    """
    line_no = 0
    for lines in _line_blocks(Path(path), external):
        for line in lines:
            line_no += 1
            if line and not line.isspace():
                yield line_no, line


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
    path: str | Path, processor: StreamProcessor | None = None, *, external: bool = True
) -> Iterator[MarketUpdate]:
    """Every market update a file produces, in file order (the processor keeps the books).

    Each update is yielded before the next line is applied. Lines go to
    `StreamProcessor.process_lines` a decompressed block at a time (the replay hot path).
    """
    process_lines = (processor if processor is not None else StreamProcessor()).process_lines
    line_no = 0
    for lines in _line_blocks(Path(path), external):
        yield from process_lines(lines, line_no + 1)
        line_no += len(lines)
