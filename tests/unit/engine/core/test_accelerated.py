import asyncio
import time

import pytest

from engine.core.accelerated import AcceleratedClock


def test_stands_at_the_origin_until_started():
    clock = AcceleratedClock(1000.0, 50.0)

    assert clock.time() == 1000.0
    assert not clock.started


def test_event_time_runs_speed_times_the_wall():
    clock = AcceleratedClock(1000.0, 50.0)

    clock.start(at_monotonic=time.monotonic() - 2.0)

    assert clock.time() == pytest.approx(1100.0, abs=1.0)
    assert clock.wall_delay(clock.time() + 100.0) == pytest.approx(2.0, abs=0.05)


def test_refuses_a_non_positive_speed():
    with pytest.raises(ValueError, match="speed"):
        AcceleratedClock(0.0, 0.0)


async def test_timers_fire_after_the_scaled_delay():
    clock = AcceleratedClock(0.0, 100.0)
    clock.start()
    fired = asyncio.Event()
    started = clock.time()

    clock.call_later(5.0, fired.set)  # 5 event seconds = 50 ms of wall time
    await asyncio.wait_for(fired.wait(), timeout=5.0)

    assert clock.time() - started >= 5.0
