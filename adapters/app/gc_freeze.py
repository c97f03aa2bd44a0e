"""Freeze the start-up heap so that no garbage collection scans it again.

After imports, the models, the compiled physics and the warm-up, the daemon's process holds
150,000 (`benchmarks/bench_latency.py`'s engine) to 870,000 (demo mode, with the loopback
exchange's recording in the same process) container objects that live as long as it does.
CPython's full collection scans all of them: 44–54 ms and 280–306 ms with the loop blocked
(under 0.1 ms once they are frozen), long enough to make a feed look stale and to delay every
message queued behind it. `gc.freeze()`
moves them to a permanent generation that collections skip (refcounting still frees them; only a
reference cycle among them would outlive the process), so a full collection scans only what the
day has allocated since. CPython keeps its own triggers: over the sockets they fire rarely while
prices flow (2–12 young collections in 30–40 s); collecting from a loop timer of our own instead
was measured and rejected (benchmarks/RESULTS.md, "Socket-to-decision latency").
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

from engine.logs import get_logger

_log = get_logger("app.gc")


@dataclass(frozen=True, slots=True)
class FrozenHeap:
    """What the freeze did: objects frozen, and a full collection's pause before and after."""

    frozen_objects: int
    full_collection_before_ms: float
    full_collection_after_ms: float


def _full_collection_ms() -> float:
    started = time.perf_counter_ns()
    gc.collect()
    return (time.perf_counter_ns() - started) / 1e6


def freeze_startup_heap() -> FrozenHeap:
    """Collect once, freeze what survives, and time a full collection on either side."""
    before = _full_collection_ms()
    gc.freeze()
    after = _full_collection_ms()
    frozen = FrozenHeap(gc.get_freeze_count(), round(before, 2), round(after, 2))
    _log.info(
        "gc_heap_frozen",
        frozen_objects=frozen.frozen_objects,
        full_collection_before_ms=frozen.full_collection_before_ms,
        full_collection_after_ms=frozen.full_collection_after_ms,
    )
    return frozen


def thaw_heap() -> None:
    """Undo `freeze_startup_heap` when the daemon stops (a process that goes on, e.g. a test
    run, gets its objects back into the collector's care)."""
    gc.unfreeze()
