import bz2
import gzip
import lzma
import os
import random
from collections.abc import Generator
from functools import partial
from pathlib import Path

import orjson
import pytest
from structlog.testing import capture_logs

from adapters.betfair.historical import (
    HistoricalReader,
    detect_compression,
    iter_lines,
    replay_market_updates,
)
from adapters.betfair.processor import StreamProcessor


def _mcm(pt: int, market_id: str = "1.5", **change: object) -> bytes:
    return orjson.dumps(
        {"op": "mcm", "clk": str(pt), "pt": pt, "mc": [{"id": market_id, **change}]}
    )


LINES = [
    _mcm(1, img=True, marketDefinition={"status": "OPEN", "runners": [{"id": 1}]}),
    _mcm(2, rc=[{"id": 1, "atb": [[2.0, 5]]}]),
    b"",
    _mcm(3, rc=[{"id": 1, "atl": [[2.02, 4]]}]),
]
CONTENT = b"\n".join(LINES) + b"\n"


@pytest.mark.parametrize(
    ("opener", "name", "kind"),
    [
        (gzip.compress, "looks_plain.txt", "gzip"),
        (bz2.compress, "no_extension", "bzip2"),
        (lzma.compress, "file.gz", "xz"),
        (lambda data: data, "file.bz2", "plain"),
    ],
)
@pytest.mark.parametrize("external", [True, False])
def test_compression_is_sniffed_from_magic_bytes_not_the_name(
    tmp_path, opener, name, kind, external
):
    path = tmp_path / name
    path.write_bytes(opener(CONTENT))

    assert detect_compression(path) == kind
    assert list(iter_lines(path, external=external)) == [
        (1, LINES[0]),
        (2, LINES[1]),
        (4, LINES[3]),
    ]


def test_crlf_lines_and_a_final_line_without_newline(tmp_path):
    path = tmp_path / "crlf.json"
    path.write_bytes(LINES[0] + b"\r\n" + LINES[1] + b"\r\n   \r\n" + LINES[3])

    lines = list(iter_lines(path))

    assert [number for number, _ in lines] == [1, 2, 4]
    assert [orjson.loads(line)["pt"] for _, line in lines] == [1, 2, 3]


def test_concatenated_gzip_members_are_all_read(tmp_path):
    path = tmp_path / "two_members.gz"
    path.write_bytes(gzip.compress(LINES[0] + b"\n") + gzip.compress(LINES[1] + b"\n"))

    assert [line for _, line in iter_lines(path)] == LINES[:2]


@pytest.mark.parametrize("external", [True, False])
@pytest.mark.parametrize(
    "compress", [partial(bz2.compress, compresslevel=1), lzma.compress, gzip.compress]
)
def test_truncated_compressed_file_yields_what_it_has_without_raising(tmp_path, compress, external):
    many = b"".join(_mcm(pt, rc=[{"id": 1, "atb": [[2.0, pt]]}]) + b"\n" for pt in range(1, 3000))
    compressed = compress(many)
    path = tmp_path / "cut"
    path.write_bytes(compressed[: len(compressed) // 2])

    with capture_logs() as logs:
        lines = list(iter_lines(path, external=external))

    assert 0 < len(lines) < 2999  # bzip2 level 1: 100 kB blocks, the first ones are whole
    assert [number for number, _ in lines] == list(range(1, len(lines) + 1))
    original = many.split(b"\n")
    assert [line for _, line in lines[:-1]] == original[: len(lines) - 1]
    assert original[len(lines) - 1].startswith(lines[-1][1])  # the last may be cut mid-line
    assert any(e["log_level"] in ("warning", "error") for e in logs)


@pytest.mark.parametrize("compress", [bz2.compress, lzma.compress])
def test_system_tool_and_in_process_decompression_give_the_same_lines(tmp_path, compress):
    path = tmp_path / "two_members"
    path.write_bytes(compress(CONTENT) + compress(LINES[1] + b"\n"))

    by_tool = list(iter_lines(path, external=True))

    assert by_tool == list(iter_lines(path, external=False))
    assert [line for _, line in by_tool] == [LINES[0], LINES[1], LINES[3], LINES[1]]


def test_shared_bzip2_file_reads_the_same_by_tool_and_in_process(shared_data: Path):
    path = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"

    by_tool = list(iter_lines(path, external=True))

    assert len(by_tool) == 15788
    assert by_tool == list(iter_lines(path, external=False))


def _bzip2_children() -> list[str]:
    """Process ids of this process's live `bzip2` children (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("Name", "").strip() == "bzip2" and fields.get("PPid", "").strip() == str(
            os.getpid()
        ):
            found.append(entry.name)
    return found


def test_stopping_a_replay_early_stops_the_decompressor(shared_data: Path):
    path = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"
    processor = StreamProcessor()

    updates = replay_market_updates(path, processor)
    assert isinstance(updates, Generator)
    first = [next(updates) for _ in range(10)]
    running = _bzip2_children()
    updates.close()  # kills and reaps the child decompressor; must not hang or raise

    assert len(running) == 1 and _bzip2_children() == []
    assert [u.publish_time for u in first] == sorted(u.publish_time for u in first)
    assert processor.counters.market_updates == 10
    assert sum(1 for _ in replay_market_updates(path)) == 15788  # a fresh replay is unaffected


def test_corrupt_compressed_data_ends_the_file_without_raising(tmp_path):
    good = gzip.compress(CONTENT)
    path = tmp_path / "corrupt.gz"
    path.write_bytes(good + b"\x1f\x8b\x08\x00garbage-not-deflate" * 10)

    lines = list(iter_lines(path))

    assert [line for _, line in lines] == [LINES[0], LINES[1], LINES[3]]


def test_reader_skips_and_counts_malformed_lines_with_their_line_numbers(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(LINES[0] + b"\n{oops\n" + LINES[1] + b"\n[1]\n" + LINES[3] + b"\n")

    reader = HistoricalReader(path)
    with capture_logs() as logs:
        records = list(reader)

    assert [(r.line_no, r.pt) for r in records] == [(1, 1), (3, 2), (5, 3)]
    assert (reader.stats.lines, reader.stats.messages, reader.stats.malformed) == (5, 3, 2)
    skipped = [(e["line_no"], e["kind"]) for e in logs if e["event"] == "malformed line skipped"]
    assert skipped == [(2, "json"), (4, "not_object")]


def test_reader_refuses_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        HistoricalReader(tmp_path / "absent.bz2")


def test_replay_market_updates_keeps_books_in_the_given_processor(tmp_path):
    path = tmp_path / "day.gz"
    path.write_bytes(gzip.compress(CONTENT + b"garbage line\n"))
    processor = StreamProcessor()

    updates = list(replay_market_updates(path, processor))

    assert [u.publish_time for u in updates] == [1, 2, 3]
    book = processor.cache.get("1.5")
    assert book is not None
    runner = book.runner(1)
    assert runner is not None
    assert (runner.back_levels(), runner.lay_levels()) == ([(2.0, 5.0)], [(2.02, 4.0)])
    assert processor.counters.decode_errors == 1


def test_shared_order_file_parses_without_errors(shared_data: Path):
    path = shared_data / "betfair" / "historical" / "ORDER-1.177596575"
    processor = StreamProcessor()

    updates = list(replay_market_updates(path, processor))

    assert updates == []
    assert processor.counters.order_messages == 4
    assert processor.counters.decode_errors == 0
    assert processor.order_clock.clk == "ALgBA"


@pytest.mark.parametrize("external", [True, False])
def test_corrupt_bzip2_block_logs_an_error_after_the_good_blocks(tmp_path, external):
    sizes = random.Random(7)
    many = b"".join(
        _mcm(pt, rc=[{"id": 1, "atb": [[2.0, sizes.random()]]}]) + b"\n" for pt in range(1, 20000)
    )
    compressed = bytearray(bz2.compress(many, compresslevel=1))
    assert len(compressed) > 3 * 65536  # several in-process reads, so good blocks come out first
    middle = len(compressed) * 3 // 4
    compressed[middle : middle + 64] = bytes(64)  # damage a late block
    path = tmp_path / "damaged.bz2"
    path.write_bytes(bytes(compressed))

    with capture_logs() as logs:
        lines = list(iter_lines(path, external=external))

    assert 0 < len(lines) < 19999
    assert [line for _, line in lines[:-1]] == many.split(b"\n")[: len(lines) - 1]
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["unreadable compressed data"]
