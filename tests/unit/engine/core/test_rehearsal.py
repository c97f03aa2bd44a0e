"""The rehearsal (engine.core.rehearsal): a recorded match played through shadow engines that
share the real engine's ONNX sessions. It must leave the real engine's every record and gate
decision unchanged, drop the shadow's intents and log lines, and stop for good on a failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.app.rehearsal import load_rehearsal_script, new_rehearsal
from engine.clock import Clock, SimulatedClock
from engine.core import CoreConfig, Engine, EngineParts
from engine.core.emulators import EmulatorSet
from engine.core.rehearsal import DiscardingSink, Rehearsal, RehearsalScript, RehearsalStep
from engine.gate import GateConfig
from engine.metrics import EngineMetrics, Stage
from engine.physics.rules import MatchRules
from engine.score.ticks import MatchStart, Point
from strategies.divergence import DivergenceStrategy

PERMISSIVE = GateConfig(emu_error_max=1.0, distress_threshold=1.0, min_edge=0.001, emu_min_points=1)
REHEARSED = "2013-wimbledon-1402"  # another match than the one the real engine follows


@pytest.fixture(scope="module")
def script(repo_root: Path) -> RehearsalScript:
    return load_rehearsal_script(repo_root / "data" / "sample" / REHEARSED)


@pytest.fixture
def make_engine(intent_log: type[Any]) -> Callable[..., Engine]:
    def make(models: Path, start: float, emulators: EmulatorSet | None = None) -> Engine:
        return _engine(models, start, intent_log(), emulators)

    return make


def _engine(
    models: Path, start: float, orders: Any, emulators: EmulatorSet | None = None
) -> Engine:
    engine = Engine(
        EngineParts(core=CoreConfig(), gate=PERMISSIVE),
        SimulatedClock(start),
        emulators=emulators or EmulatorSet.load(models, "gru_full.onnx", "gru_lite.onnx"),
        strategy=DivergenceStrategy(),
        orders=orders,
    )
    engine.keep_records = True
    return engine


def test_rehearsing_between_every_event_changes_no_record_or_decision(
    make_engine, match_events, tiny_models, script, feed
):
    _meta, events = match_events
    alone = make_engine(tiny_models, events[0][0])
    feed(alone, events)
    rehearsed = make_engine(tiny_models, events[0][0])
    rehearsal = new_rehearsal(rehearsed, script, DivergenceStrategy)

    # the shadow steps the same ONNX sessions between every two events
    feed(rehearsed, events, after=lambda *_event: rehearsal.play())

    assert len(alone.records) > 150
    assert rehearsed.records == alone.records
    assert rehearsed.decisions == alone.decisions
    assert rehearsed.orders.intents == alone.orders.intents
    assert rehearsal.passes >= 2 and not rehearsal.broken
    assert rehearsal.intents_discarded > 0  # the shadow's strategy ran, and nothing was sent


def test_plays_are_a_fresh_shadow_the_match_start_or_one_point_and_passes_start_over(
    make_engine, tiny_models, script
):
    engine = make_engine(tiny_models, 0.0)
    built: list[Engine] = []
    rehearsal = new_rehearsal(engine, script, DivergenceStrategy)
    build = rehearsal._build

    def recording_build(clock: Clock, sink: DiscardingSink) -> Engine:
        built.append(build(clock, sink))
        return built[-1]

    rehearsal._build = recording_build
    assert rehearsal.play() and (len(built), rehearsal.points) == (1, 0)  # a fresh shadow
    assert rehearsal.play() and built[0].scores.get(script.match_id) is not None
    assert rehearsal.points == 0  # the match start
    plays = 0
    while rehearsal.passes == 1:  # one point per play, then the ticks after the last point
        points = rehearsal.points
        assert rehearsal.play()
        assert rehearsal.points - points <= 1
        plays += 1
    assert plays == script.points + 2  # the points, the match end, the next pass's fresh shadow
    for _ in range(4):  # the match start, three points
        assert rehearsal.play()

    assert rehearsal.points == script.points + 3
    assert rehearsal.passes == 2 and len(built) == 2
    first, second = built
    assert first.predictions == script.points - 1  # the last point ends the match: no record
    assert second.predictions == 3
    # the same runners, so the same ONNX sessions and weights; one match slot kept across shadows
    assert first.emulators.full is engine.emulators.full
    assert (
        next(iter(first.markets.values())).emulators
        is next(iter(second.markets.values())).emulators
    )


def test_only_the_rehearsals_own_timer_and_counter_reach_the_real_metrics(
    make_engine, tiny_models, script
):
    engine = make_engine(tiny_models, 0.0)
    rehearsal = new_rehearsal(engine, script, DivergenceStrategy)

    for _ in range(25):
        rehearsal.play()

    assert rehearsal.points == 23  # a fresh shadow, the match start, 23 points
    text = engine.metrics.render().decode()
    assert 'courtside_rehearsals_total{result="played"} 25.0' in text
    assert 'courtside_stage_latency_seconds_count{stage="rehearsal"} 25.0' in text
    assert 'courtside_score_ticks_total{outcome="applied"}' not in text
    assert 'stage="model"} 0.0' in text  # no emulator step of the shadow is counted as ours
    assert engine.predictions == 0 and engine.markets == {}
    assert engine.orders.intents == []


def test_a_failure_stops_rehearsing_for_good_and_is_counted(tiny_models, script, capsys):
    from engine.logs import configure_logging

    configure_logging("INFO", json=True)
    metrics = EngineMetrics()
    calls = []

    def broken_build(clock: Clock, sink: DiscardingSink) -> Engine:
        calls.append(clock)
        raise RuntimeError("shadow could not start")

    rehearsal = Rehearsal(
        broken_build,
        script,
        metrics.stage_timer(Stage.REHEARSAL),
        metrics.rehearsals.labels("played"),
        metrics.rehearsals.labels("failed"),
    )

    first, second = rehearsal.play(), rehearsal.play()

    assert (first, second) == (False, False)
    assert rehearsal.broken and len(calls) == 1  # never retried in a loop
    text = metrics.render().decode()
    assert 'courtside_rehearsals_total{result="failed"} 1.0' in text
    logged = capsys.readouterr().err
    assert logged.count('"rehearsal_failed"') == 1 and "shadow could not start" in logged


def test_the_shadows_log_lines_are_muted_and_the_daemons_are_not(
    make_engine, tiny_models, script, capsys
):
    from engine.logs import configure_logging, get_logger

    configure_logging("INFO", json=True)
    engine = make_engine(tiny_models, 0.0)
    rehearsal = new_rehearsal(engine, script, DivergenceStrategy)

    for _ in range(5):
        rehearsal.play()  # the shadow links its market and prices its match: both log at info
    get_logger("test").info("after_rehearsal")

    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 1 and '"after_rehearsal"' in logged[0]


def test_a_script_must_start_a_match_and_play_points():
    start = MatchStart("m", 1, 0.0, MatchRules(best_of=3), ("A B", "C D"), first_server=1)
    point = Point("m", 2, 1.0, server=1, winner=1)

    with pytest.raises(ValueError, match="match_start"):
        RehearsalScript([RehearsalStep(point)])
    with pytest.raises(ValueError, match="at least one point"):
        RehearsalScript([RehearsalStep(start)])
    assert RehearsalScript([RehearsalStep(start), RehearsalStep(point)]).points == 1


def test_a_match_is_in_play_from_its_start_to_its_last_point(
    make_engine, match_events, tiny_models, feed
):
    _meta, events = match_events
    engine = make_engine(tiny_models, events[0][0])
    start = next(i for i, e in enumerate(events) if isinstance(e[2], MatchStart))
    before = engine.has_match_in_play()

    feed(engine, events[: start + 1])
    during = engine.has_match_in_play()
    feed(engine, events[start + 1 :])

    assert (before, during, engine.has_match_in_play()) == (False, True, False)


def test_a_discarded_engine_is_freed_without_the_cycle_collector(
    make_engine, match_events, tiny_models, feed
):
    import gc
    import weakref

    _meta, events = match_events
    engine = make_engine(tiny_models, events[0][0])
    feed(engine, events[:3000])  # a followed market, a match in play, points priced
    assert engine.predictions > 0 and engine.scores.get("2013-wimbledon-1401") is not None
    refs = (weakref.ref(engine), weakref.ref(engine.board))
    gc.collect()
    gc.disable()
    try:
        del engine

        alive = [ref() is not None for ref in refs]
        left_for_the_collector = gc.collect()
    finally:
        gc.enable()

    assert alive == [False, False]  # freed by reference counting alone
    assert left_for_the_collector == 0  # no cycle left behind (score machines included)
