"""The SQLite journal: WAL + synchronous, append-only events, state rows, reopen."""

import asyncio
import sqlite3

import pytest

from engine.execution.journal import Journal, JournalOrder, OrderState


def intent(ref: str = "cs-1", ts: int = 1000) -> JournalOrder:
    return JournalOrder(
        ref=ref,
        market_id="1.1",
        selection_id=7,
        side="BACK",
        price=2.0,
        size=10.0,
        persistence="LAPSE",
        strategy_ref="s",
        decision_id="d1",
        state=OrderState.INTENT,
        created_ms=ts,
        updated_ms=ts,
        size_remaining=10.0,
    )


async def test_wal_and_synchronous_full(tmp_path):
    journal = await Journal.open(tmp_path / "j.sqlite")
    assert await journal.pragma("journal_mode") == "wal"
    assert await journal.pragma("synchronous") == "2"  # FULL
    await journal.close()
    normal = await Journal.open(tmp_path / "n.sqlite", synchronous="NORMAL")
    assert await normal.pragma("synchronous") == "1"
    await normal.close()
    with pytest.raises(ValueError, match="synchronous"):
        await Journal.open(tmp_path / "x.sqlite", synchronous="OFF")


async def test_insert_update_and_events_in_order(tmp_path):
    seen = []
    journal = await Journal.open(tmp_path / "j.sqlite", on_commit=lambda *a: seen.append(a))
    s1 = await journal.insert_order(intent(), "intent", {"decision_id": "d1"})
    s2 = await journal.update_order(
        "cs-1",
        {"state": OrderState.EXECUTABLE, "bet_id": "9", "size_matched": 4.0},
        "placed",
        {"bet_id": "9"},
        2000,
    )
    order = await journal.get("cs-1")
    assert order is not None
    assert (order.state, order.bet_id, order.size_matched, order.last_seq) == (
        OrderState.EXECUTABLE,
        "9",
        4.0,
        s2,
    )
    events = await journal.events("cs-1")
    assert [(e.seq, e.kind) for e in events] == [(s1, "intent"), (s2, "placed")]
    assert seen == [(s1, "cs-1", "intent"), (s2, "cs-1", "placed")]
    await journal.close()


async def test_events_are_append_only(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = await Journal.open(path)
    await journal.insert_order(intent(), "intent", {})
    await journal.close()
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE events SET kind = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()


async def test_update_of_unknown_ref_rolls_back(tmp_path):
    journal = await Journal.open(tmp_path / "j.sqlite")
    with pytest.raises(KeyError):
        await journal.update_order("nope", {"state": OrderState.COMPLETE}, "x", {}, 1)
    assert await journal.events() == []
    with pytest.raises(ValueError, match="cannot update"):
        await journal.update_order("nope", {"ref": "y"}, "x", {}, 1)
    await journal.close()


async def test_duplicate_intent_is_refused(tmp_path):
    journal = await Journal.open(tmp_path / "j.sqlite")
    await journal.insert_order(intent(), "intent", {})
    with pytest.raises(sqlite3.IntegrityError):
        await journal.insert_order(intent(), "intent", {})
    assert len(await journal.events()) == 1
    await journal.close()


async def test_reopen_keeps_everything_and_filters_open_orders(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = await Journal.open(path)
    await journal.insert_order(intent("a"), "intent", {})
    await journal.insert_order(intent("b"), "intent", {})
    await journal.update_order("b", {"state": OrderState.COMPLETE}, "done", {}, 5)
    await journal.close()
    reopened = await Journal.open(path)
    assert [o.ref for o in await reopened.orders()] == ["a", "b"]
    assert [o.ref for o in await reopened.orders(open_only=True)] == ["a"]
    await reopened.close()


async def test_concurrent_writers_do_not_interleave_transactions(tmp_path):
    journal = await Journal.open(tmp_path / "j.sqlite")
    await asyncio.gather(*(journal.insert_order(intent(f"r{n}"), "intent", {}) for n in range(20)))
    await asyncio.gather(
        *(
            journal.update_order(f"r{n}", {"state": OrderState.COMPLETE}, "done", {}, 2)
            for n in range(20)
        )
    )
    assert len(await journal.events()) == 40
    assert all(o.state is OrderState.COMPLETE for o in await journal.orders())
    await journal.close()
