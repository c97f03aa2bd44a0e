"""Recorded tick files: round trip (plain and gzip), deterministic bytes, damaged input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from adapters.scores.tickfile import ReadStats, TickFileWriter, read_ticks, write_ticks
from engine.physics.rules import MatchRules
from engine.score.synthetic import simulate_match_ticks
from engine.score.ticks import Point, encode_tick

TICKS = list(simulate_match_ticks("m1", MatchRules(best_of=3), seed=11))


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    # Arrange
    path = tmp_path / name

    # Act
    written = write_ticks(path, TICKS)
    stats = ReadStats()
    read = list(read_ticks(path, stats))

    # Assert
    assert written == len(TICKS)
    assert read == TICKS
    assert (stats.lines, stats.ticks, stats.malformed_total) == (len(TICKS),) * 2 + (0,)


def test_gzip_output_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    # Act
    write_ticks(tmp_path / "a.jsonl.gz", TICKS)
    write_ticks(tmp_path / "b.jsonl.gz", TICKS)

    # Assert
    a = (tmp_path / "a.jsonl.gz").read_bytes()
    assert a == (tmp_path / "b.jsonl.gz").read_bytes()
    assert gzip.decompress(a) == b"".join(encode_tick(t) + b"\n" for t in TICKS)


def test_malformed_lines_are_counted_by_reason_and_skipped(tmp_path: Path) -> None:
    # Arrange
    good = [encode_tick(t) for t in TICKS[:3]]
    lines = [
        good[0],
        b"{not json",
        b"",
        good[1],
        b'{"v": 1, "type": "point", "match_id": "m1", "seq": 9, "ts": 1.0, "winner": 1}',
        b'{"v": 7, "type": "point"}',
        good[2],
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    stats = ReadStats()

    # Act
    read = list(read_ticks(path, stats))

    # Assert
    assert read == TICKS[:3]
    assert stats.lines == 7
    assert dict(stats.malformed) == {"tick": 1, "point.server": 1, "tick.v": 1}


def test_truncated_gzip_yields_what_precedes_the_damage(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "cut.jsonl.gz"
    write_ticks(path, TICKS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    stats = ReadStats()

    # Act
    read = list(read_ticks(path, stats))

    # Assert
    assert 0 < len(read) < len(TICKS)
    assert read == TICKS[: len(read)]
    assert stats.malformed["file"] == 1


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_ticks(tmp_path / "absent.jsonl"))


def test_writer_appends_interleaved_matches(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "two.jsonl"
    other = Point("m2", 1, 5.0, 1, 1)

    # Act
    with TickFileWriter(path) as writer:
        writer.write(TICKS[0])
        writer.write(other)
        writer.write(TICKS[1])

    # Assert
    assert list(read_ticks(path)) == [TICKS[0], other, TICKS[1]]
    assert writer.count == 3
