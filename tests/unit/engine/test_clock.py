"""The clock abstraction: simulated timers fire like live ones, in order, without sleeping."""

import asyncio

from engine.clock import Clock, LiveClock, SimulatedClock


def test_simulated_clock_fires_due_timers_in_time_then_scheduling_order():
    clock = SimulatedClock(start=100.0)
    fired: list[tuple[str, float]] = []
    clock.call_later(5.0, lambda: fired.append(("b", clock.time())))
    clock.call_later(2.0, lambda: fired.append(("a", clock.time())))
    clock.call_later(5.0, lambda: fired.append(("c", clock.time())))

    count = clock.advance_to(105.0)

    assert count == 3
    assert fired == [("a", 102.0), ("b", 105.0), ("c", 105.0)]
    assert clock.time() == 105.0


def test_timers_beyond_the_target_wait_and_cancelled_ones_never_fire():
    clock = SimulatedClock()
    fired: list[str] = []
    later = clock.call_later(10.0, fired.append, "later")
    cancelled = clock.call_later(1.0, fired.append, "cancelled")
    cancelled.cancel()

    clock.advance(5.0)

    assert fired == []
    assert clock.next_timer_at() == 10.0
    assert clock.pending() == 1
    clock.advance(5.0)
    assert fired == ["later"]
    assert not later.cancelled()
    assert clock.next_timer_at() is None


def test_a_timer_scheduled_by_a_callback_fires_in_the_same_advance_when_due():
    clock = SimulatedClock()
    seen: list[float] = []

    def tick() -> None:
        seen.append(clock.time())
        if len(seen) < 3:
            clock.call_later(1.0, tick)

    clock.call_later(1.0, tick)
    clock.advance_to(10.0)

    assert seen == [1.0, 2.0, 3.0]


def test_time_never_goes_backwards_and_late_events_are_counted():
    clock = SimulatedClock(start=50.0)
    before = clock.monotonic_ns()

    assert clock.advance_to(40.0) == 0

    assert clock.time() == 50.0
    assert clock.late_events == 1
    clock.advance_to(50.5)
    assert clock.monotonic_ns() - before == 500_000_000


async def test_live_clock_runs_timers_on_the_event_loop():
    clock: Clock = LiveClock()
    done = asyncio.get_running_loop().create_future()
    start = clock.monotonic_ns()

    clock.call_later(0.01, done.set_result, "ok")

    assert await asyncio.wait_for(done, timeout=5) == "ok"
    assert clock.monotonic_ns() > start
    assert clock.time() > 1_700_000_000


def test_both_clocks_satisfy_the_protocol():
    clocks: list[Clock] = [LiveClock(), SimulatedClock()]
    assert all(isinstance(c.time(), float) for c in clocks)
