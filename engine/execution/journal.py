"""The order journal: SQLite (aiosqlite) in WAL mode, an append-only event log plus current state.

Every change is one transaction that appends to `events` and upserts `orders`, so the two can never
disagree. Triggers make `events` append-only at the database level. The intent of an order is
committed BEFORE the order is sent; that is what lets a restarted process find every order it may
have placed.

Durability: WAL with `synchronous=FULL` (the default) fsyncs the WAL on every commit, so a
committed intent survives a power cut as well as a process kill. `NORMAL` survives process kills
(SIGKILL) but may lose the last commits on power loss; a lost intent could mean an order on the
exchange that the journal never heard of, so FULL is worth its ~1 fsync per order.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_ref ON events (ref);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE IF NOT EXISTS orders (
    ref TEXT PRIMARY KEY,
    market_id TEXT NOT NULL,
    selection_id INTEGER NOT NULL,
    side TEXT NOT NULL,
    price REAL NOT NULL,
    size REAL NOT NULL,
    persistence TEXT NOT NULL,
    strategy_ref TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    state TEXT NOT NULL,
    bet_id TEXT,
    size_matched REAL NOT NULL DEFAULT 0,
    average_price_matched REAL NOT NULL DEFAULT 0,
    size_remaining REAL NOT NULL DEFAULT 0,
    size_cancelled REAL NOT NULL DEFAULT 0,
    size_lapsed REAL NOT NULL DEFAULT 0,
    size_voided REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state);
"""


class OrderState(enum.StrEnum):
    """Our lifecycle of an order (the exchange's status is one input to it)."""

    INTENT = "INTENT"
    UNKNOWN = "UNKNOWN"
    EXECUTABLE = "EXECUTABLE"
    COMPLETE = "COMPLETE"
    REJECTED = "REJECTED"
    RISK_REJECTED = "RISK_REJECTED"
    ABANDONED = "ABANDONED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {OrderState.COMPLETE, OrderState.REJECTED, OrderState.RISK_REJECTED, OrderState.ABANDONED}
)


@dataclass(frozen=True, slots=True)
class JournalOrder:
    """One row of the `orders` table."""

    ref: str
    market_id: str
    selection_id: int
    side: str
    price: float
    size: float
    persistence: str
    strategy_ref: str
    decision_id: str
    state: OrderState
    created_ms: int
    updated_ms: int
    bet_id: str | None = None
    size_matched: float = 0.0
    average_price_matched: float = 0.0
    size_remaining: float = 0.0
    size_cancelled: float = 0.0
    size_lapsed: float = 0.0
    size_voided: float = 0.0
    error: str = ""
    last_seq: int = 0


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One row of the append-only `events` table."""

    seq: int
    ts_ms: int
    ref: str
    kind: str
    payload: dict[str, Any]


_ORDER_COLUMNS = tuple(f.name for f in fields(JournalOrder))
_UPDATABLE = frozenset(_ORDER_COLUMNS) - {"ref", "created_ms", "last_seq"}

CommitHook = Callable[[int, str, str], None]


class Journal:
    """Async facade over one SQLite file; one writer (this process) at a time."""

    def __init__(self, db: aiosqlite.Connection, on_commit: CommitHook | None = None) -> None:
        self._db = db
        self.on_commit = on_commit
        # one connection, many coroutines (placing, order stream, polling): transactions must not
        # interleave, so each BEGIN … COMMIT holds this lock
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: str | Path, *, synchronous: str = "FULL", on_commit: CommitHook | None = None
    ) -> Journal:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous: {synchronous!r} is not FULL or NORMAL")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={synchronous}")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.executescript(_SCHEMA)
        await db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )
        return cls(db, on_commit)

    async def close(self) -> None:
        await self._db.close()

    async def pragma(self, name: str) -> str:
        async with self._db.execute(f"PRAGMA {name}") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row is not None else ""

    async def _commit_event(
        self,
        ref: str,
        kind: str,
        payload: Mapping[str, Any],
        ts_ms: int,
        *,
        order_sql: str | None = None,
        order_args: tuple[Any, ...] = (),
    ) -> int:
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self._db.execute(
                    "INSERT INTO events (ts_ms, ref, kind, payload) VALUES (?, ?, ?, ?)",
                    (ts_ms, ref, kind, orjson.dumps(dict(payload)).decode()),
                )
                seq = int(cursor.lastrowid or 0)
                if order_sql is not None:
                    await self._db.execute(order_sql, (*order_args, seq))
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        if self.on_commit is not None:
            self.on_commit(seq, ref, kind)
        return seq

    async def insert_order(self, order: JournalOrder, kind: str, payload: Mapping[str, Any]) -> int:
        """Journal a new order (its intent) and its first event in one transaction."""
        columns = [c for c in _ORDER_COLUMNS if c != "last_seq"]
        values = tuple(
            getattr(order, c).value if c == "state" else getattr(order, c) for c in columns
        )
        sql = (
            f"INSERT INTO orders ({', '.join(columns)}, last_seq) "
            f"VALUES ({', '.join('?' for _ in columns)}, ?)"
        )
        return await self._commit_event(
            order.ref, kind, payload, order.created_ms, order_sql=sql, order_args=values
        )

    async def update_order(
        self,
        ref: str,
        changes: Mapping[str, Any],
        kind: str,
        payload: Mapping[str, Any],
        ts_ms: int,
    ) -> int:
        """Apply `changes` to an order's current state and append the event that caused them."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"changes: cannot update {sorted(unknown)}")
        assignments = [f"{column} = ?" for column in changes]
        values = tuple(v.value if isinstance(v, enum.Enum) else v for v in changes.values())
        sql = (
            f"UPDATE orders SET {', '.join([*assignments, 'updated_ms = ?'])}, last_seq = ? "
            "WHERE ref = ?"
        )
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self._db.execute(
                    "INSERT INTO events (ts_ms, ref, kind, payload) VALUES (?, ?, ?, ?)",
                    (ts_ms, ref, kind, orjson.dumps(dict(payload)).decode()),
                )
                seq = int(cursor.lastrowid or 0)
                updated = await self._db.execute(sql, (*values, ts_ms, seq, ref))
                if updated.rowcount != 1:
                    raise KeyError(f"ref: {ref!r} is not in the journal")
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        if self.on_commit is not None:
            self.on_commit(seq, ref, kind)
        return seq

    async def append_event(
        self, ref: str, kind: str, payload: Mapping[str, Any], ts_ms: int
    ) -> int:
        """An event that changes no order state (e.g. a cancel intent, a foreign order seen)."""
        return await self._commit_event(ref, kind, payload, ts_ms)

    async def get(self, ref: str) -> JournalOrder | None:
        async with self._db.execute(
            f"SELECT {', '.join(_ORDER_COLUMNS)} FROM orders WHERE ref = ?", (ref,)
        ) as cursor:
            row = await cursor.fetchone()
        return _to_order(row) if row is not None else None

    async def orders(self, *, open_only: bool = False) -> list[JournalOrder]:
        sql = f"SELECT {', '.join(_ORDER_COLUMNS)} FROM orders"
        if open_only:
            finals = ", ".join(f"'{s.value}'" for s in sorted(_FINAL))
            sql += f" WHERE state NOT IN ({finals})"
        async with self._db.execute(sql + " ORDER BY created_ms, ref") as cursor:
            rows = await cursor.fetchall()
        return [_to_order(row) for row in rows]

    async def events(self, ref: str | None = None) -> list[JournalEvent]:
        sql = "SELECT seq, ts_ms, ref, kind, payload FROM events"
        args: tuple[Any, ...] = ()
        if ref is not None:
            sql, args = sql + " WHERE ref = ?", (ref,)
        async with self._db.execute(sql + " ORDER BY seq", args) as cursor:
            rows = await cursor.fetchall()
        return [
            JournalEvent(int(r[0]), int(r[1]), str(r[2]), str(r[3]), orjson.loads(r[4]))
            for r in rows
        ]


def _to_order(row: Any) -> JournalOrder:
    values = dict(zip(_ORDER_COLUMNS, row, strict=True))
    values["state"] = OrderState(values["state"])
    return JournalOrder(**values)
