from itertools import islice
from pathlib import Path

import orjson
from structlog.testing import capture_logs

from adapters.betfair.historical import iter_lines
from adapters.betfair.messages import ChangeMessage, decode_message
from adapters.betfair.processor import StreamProcessor
from engine.market import MarketBook


def _line(**fields: object) -> bytes:
    return orjson.dumps(fields)


def test_sub_image_sets_clocks_and_heartbeat_moves_only_clk():
    processor = StreamProcessor()

    processor.process_line(
        _line(op="mcm", id=1, initialClk="I1", clk="C1", pt=1, ct="SUB_IMAGE", heartbeatMs=5000)
    )
    processor.process_line(_line(op="mcm", id=1, clk="C2", pt=2, ct="HEARTBEAT"))

    clock = processor.market_clock
    assert (clock.initial_clk, clock.clk, clock.heartbeat_ms, clock.last_pt) == (
        "I1",
        "C2",
        5000,
        2,
    )
    assert processor.counters.heartbeats == 1 and processor.counters.sub_images == 1


def test_order_changes_keep_their_own_clock_and_go_to_the_order_callback():
    received: list[ChangeMessage] = []
    processor = StreamProcessor(on_order_change=received.append)

    updates = processor.process_line(_line(op="ocm", id=2, clk="O1", pt=3, oc=[{"id": "1.1"}]))

    assert updates == []
    assert [message.changes for message in received] == [[{"id": "1.1"}]]
    assert processor.order_clock.clk == "O1" and processor.market_clock.clk is None
    assert processor.counters.order_messages == 1


def test_status_failures_are_counted_by_error_code_and_connection_id_kept():
    processor = StreamProcessor()

    processor.process_line(_line(op="connection", connectionId="abc"))
    processor.process_line(
        _line(op="status", statusCode="FAILURE", errorCode="TIMEOUT", connectionClosed=True)
    )

    assert processor.connection_id == "abc"
    assert processor.counters.status_failures == 1
    assert processor.counters.errors_by_code == {"TIMEOUT": 1}
    assert processor.last_status is not None and processor.last_status.connection_closed


def test_stale_stream_status_is_counted_once_per_episode():
    processor = StreamProcessor()
    stale = _line(op="mcm", pt=1, clk="a", status=503, mc=[{"id": "1.1"}])

    processor.process_line(stale)
    processor.process_line(stale)
    processor.process_line(_line(op="mcm", pt=2, clk="b", mc=[{"id": "1.1"}]))

    assert processor.counters.stale_stream_flags == 1
    assert processor.stream_status is None


def test_bad_lines_are_counted_and_processing_continues():
    processor = StreamProcessor()

    assert processor.process_line(b"{not json") == []
    assert processor.process_line(b'{"op":"mcm","mc":[]}') == []
    assert processor.process_line(b'{"op":"surprise"}') == []
    updates = processor.process_line(_line(op="mcm", pt=5, mc=[{"id": "1.1", "rc": []}]))

    assert len(updates) == 1
    assert processor.counters.decode_errors == 2
    assert processor.counters.unknown_ops == 1
    assert processor.counters.errors_by_code == {
        "decode:json": 1,
        "decode:field": 1,
        "op:surprise": 1,
    }


def _books_signature(books: list[MarketBook]) -> list[object]:
    return [
        (
            book.market_id,
            book.publish_time,
            book.status,
            book.inplay,
            book.tv,
            [(r.key, r.status, r.ltp, r.tv, r.back_levels(3), r.lay_levels(3)) for r in book],
        )
        for book in books
    ]


def test_fast_path_gives_the_same_books_and_counts_as_typed_messages(shared_data: Path):
    path = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"
    fast, typed = StreamProcessor(), StreamProcessor()

    for _line_no, raw in islice(iter_lines(path), 3000):
        fast_updates = fast.process_line(raw)
        message = decode_message(raw)
        assert isinstance(message, ChangeMessage)
        typed_updates = typed.process(message)
        assert len(fast_updates) == len(typed_updates)

    assert _books_signature(list(fast.cache)) == _books_signature(list(typed.cache))
    assert fast.counters == typed.counters
    assert fast.market_clock == typed.market_clock


def test_process_lines_matches_process_line_per_line(shared_data: Path):
    path = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"
    raws = [raw for _line_no, raw in islice(iter_lines(path), 3000)]
    extra = [
        b"",
        b"{oops",
        _line(op="mcm", id=1, initialClk="I", clk="C", pt=9, ct="SUB_IMAGE", mc=[]),
        _line(op="mcm", pt=10, clk="D", status=503, mc=[{"id": "1.145329255", "tv": 1.0}]),
        _line(op="mcm", pt=11, clk="E", mc=[{"id": "1.145329255", "tv": 2.0}]),
        b"   ",
    ]
    lines = raws[:1500] + extra + raws[1500:]
    per_line, generator = StreamProcessor(), StreamProcessor()

    expected = [
        (u.market_id, u.publish_time, u.best_changed, u.trades)
        for line in lines
        if line.strip()
        for u in per_line.process_line(line)
    ]
    got = [
        (u.market_id, u.publish_time, u.best_changed, u.trades)
        for u in generator.process_lines(lines)
    ]

    assert got == expected
    assert _books_signature(list(generator.cache)) == _books_signature(list(per_line.cache))
    assert generator.counters == per_line.counters
    assert generator.counters.decode_errors == 1 and generator.counters.stale_stream_flags == 1
    assert generator.market_clock == per_line.market_clock


def test_process_lines_yields_each_update_while_its_book_is_current():
    lines = [
        _line(op="mcm", pt=1, mc=[{"id": "1.1", "img": True, "rc": [{"id": 5, "atb": [[2, 3]]}]}]),
        _line(op="mcm", pt=2, mc=[{"id": "1.1", "rc": [{"id": 5, "atb": [[2, 0], [1.9, 4]]}]}]),
    ]
    processor = StreamProcessor()

    seen = [
        update.book.runners[(5, 0.0)].back_levels(1) for update in processor.process_lines(lines)
    ]

    assert seen == [[(2.0, 3.0)], [(1.9, 4.0)]]


def test_process_lines_logs_malformed_lines_with_their_file_line_numbers():
    good = _line(op="mcm", pt=1, mc=[{"id": "1.1", "img": True}])
    processor = StreamProcessor()

    with capture_logs() as logs:
        updates = list(processor.process_lines([good, b"", b"{bad", b"[1]", good], 41))

    assert len(updates) == 2
    errors = [(e["line_no"], e["kind"]) for e in logs if e["event"] == "malformed stream line"]
    assert errors == [(43, "json"), (44, "not_object")]
    assert processor.counters.decode_errors == 2 and processor.counters.messages == 4
