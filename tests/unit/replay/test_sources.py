"""Merging Betfair stream files and score-tick files into one time-ordered, deterministic stream."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from replay.sources import EventKind, SourceSet, SourceStats, market_events, score_events


def _mcm(pt: int, market: str = "1.1") -> bytes:
    return orjson.dumps({"op": "mcm", "clk": str(pt), "pt": pt, "mc": [{"id": market}]})


def _tick(seq: int, ts: float, match: str = "m") -> bytes:
    return orjson.dumps(
        {"v": 1, "type": "point", "match_id": match, "seq": seq, "ts": ts, "server": 1, "winner": 1}
    )


def _write_gz(path: Path, lines: list[bytes]) -> Path:
    with gzip.open(path, "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    return path


def test_merge_orders_by_time_with_market_before_score_at_equal_times(tmp_path: Path) -> None:
    # Arrange: a market file at 1.0 s, 2.0 s, 3.0 s and ticks at 2.0 s and 2.5 s
    market = _write_gz(tmp_path / "1.1.gz", [_mcm(1000), _mcm(2000), _mcm(3000)])
    ticks = tmp_path / "ticks.jsonl"
    ticks.write_bytes(_tick(1, 2.0) + b"\n" + _tick(2, 2.5) + b"\n")

    # Act
    events, _stats = SourceSet((str(market),), (str(ticks),)).open()
    order = [(e.ts, e.kind) for e in events]

    # Assert
    assert order == [
        (1.0, EventKind.MARKET),
        (2.0, EventKind.MARKET),
        (2.0, EventKind.SCORE),
        (2.5, EventKind.SCORE),
        (3.0, EventKind.MARKET),
    ]


def test_equal_times_across_market_files_follow_the_input_order(tmp_path: Path) -> None:
    first = _write_gz(tmp_path / "a.gz", [_mcm(1000, "1.2"), _mcm(1000, "1.2")])
    second = _write_gz(tmp_path / "b.gz", [_mcm(1000, "1.3")])

    events, _ = SourceSet((str(second), str(first))).open()
    markets = [e.payload.changes[0]["id"] for e in events]

    assert markets == ["1.3", "1.2", "1.2"]


def test_malformed_and_timeless_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    lines = [_mcm(1000), b"{not json", orjson.dumps({"op": "connection", "connectionId": "x"})]
    path = _write_gz(tmp_path / "m.gz", [*lines, _mcm(2000)])
    stats = SourceStats(str(path), "market")

    events = list(market_events(path, 0, stats))

    assert [e.ts for e in events] == [1.0, 2.0]
    assert stats.events == 2
    assert stats.skipped == 2
    assert stats.malformed == {"line": 1}


def test_a_file_whose_time_goes_backwards_is_kept_in_file_order_and_counted(
    tmp_path: Path,
) -> None:
    ticks = tmp_path / "ticks.jsonl"
    ticks.write_bytes(b"\n".join([_tick(1, 5.0), _tick(2, 4.0), b'{"v":1}', _tick(3, 6.0)]))
    stats = SourceStats(str(ticks), "score")

    events = list(score_events(ticks, 0, stats))

    assert [e.ts for e in events] == [5.0, 4.0, 6.0]
    assert stats.out_of_order == 1
    assert stats.skipped == 1


def test_the_merge_is_lazy(tmp_path: Path) -> None:
    # a stream that would fail when read past its first message proves nothing is read ahead
    market = _write_gz(tmp_path / "m.gz", [_mcm(1000), _mcm(2000)])
    events, stats = SourceSet((str(market),)).open()

    first = next(events)

    assert first.ts == 1.0
    assert stats[0].events == 1
