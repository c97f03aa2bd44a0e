"""Freezing the start-up heap: full collections stop scanning it, and thawing gives it back."""

import gc

from adapters.app.gc_freeze import freeze_startup_heap, thaw_heap


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_freezing_takes_the_live_heap_out_of_full_collections_and_thawing_returns_it():
    assert gc.get_freeze_count() == 0
    keep = [_Cycle() for _ in range(20_000)]  # long-lived objects a full collection must scan
    try:
        frozen = freeze_startup_heap()
        frozen_count = gc.get_freeze_count()
        scanned_while_frozen = any(obj is keep[0] for obj in gc.get_objects(2))
    finally:
        thaw_heap()

    assert frozen.frozen_objects == frozen_count >= len(keep)
    assert not scanned_while_frozen
    assert any(obj is keep[0] for obj in gc.get_objects(2))  # thawed: back in the oldest
    assert gc.get_freeze_count() == 0


def test_garbage_made_after_the_freeze_is_still_collected():
    try:
        freeze_startup_heap()
        cycle = _Cycle()
        del cycle
        found = gc.collect()
    finally:
        thaw_heap()

    assert found >= 1
