"""Prediction records as JSON lines (DESIGN.md §10): the daemon's audit trail of what it believed
and why it did or did not trade, one line per point.

The engine hands each record over synchronously (a list append); the file is written by a task
every `flush_s` seconds and at close, so the event path never touches the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import orjson

from engine.prediction import PredictionRecord


class PredictionLog:
    """Buffers records and appends them to `path` (created with its folder)."""

    def __init__(self, path: str | Path, flush_s: float = 1.0) -> None:
        self.path = Path(path)
        self.flush_s = flush_s
        self.written = 0
        self._pending: list[bytes] = []
        self._task: asyncio.Task[None] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("ab")

    def __call__(self, record: PredictionRecord) -> None:
        self._pending.append(orjson.dumps(record.as_dict()) + b"\n")

    def flush(self) -> None:
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._file.flush()
            self.written += len(self._pending)
            self._pending.clear()

    def start(self) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.flush_s)
                self.flush()

        self._task = asyncio.get_running_loop().create_task(loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.flush()
        self._file.close()
