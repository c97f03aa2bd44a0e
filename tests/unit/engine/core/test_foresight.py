"""Foresight (engine.core.foresight): the next point's tokens and Emu-full steps taken between
events. A point must come out exactly as if built and stepped on the spot, whether its foresight
was taken (hit), went stale (the book, the features or the emulator moved: miss) or raised."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimulatedClock
from engine.core import CoreConfig, Engine, EngineParts
from engine.core.emulators import EmulatorSet
from engine.core.lookahead import price_point
from engine.features.match import MatchFeatures
from engine.gate import GateConfig
from engine.metrics import Stage
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.registry import MarketInfo
from engine.score.ticks import MtoEnd, MtoStart, Point
from strategies.divergence import DivergenceStrategy

PERMISSIVE = GateConfig(emu_error_max=1.0, distress_threshold=1.0, min_edge=0.001, emu_min_points=1)


@pytest.fixture(scope="module")
def transformer_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.export import export_untrained_pair

    out = tmp_path_factory.mktemp("foresight-models")
    export_untrained_pair(
        out, "transformer", seed=11, torch_seed=5, d_model=16, heads=2, layers=2, ff=32
    )
    return out


class _Deferred:
    """The engine's `defer`: work queued off the event path, run when the test says."""

    def __init__(self) -> None:
        self.queue: list[Callable[[], None]] = []

    def __call__(self, work: Callable[[], None]) -> None:
        self.queue.append(work)

    def run(self) -> None:
        while self.queue:
            self.queue.pop(0)()


@pytest.fixture
def make_engine(intent_log: type[Any]) -> Callable[..., Engine]:
    def make(
        models: Path,
        kind: str,
        start: float,
        defer: Callable[[Callable[[], None]], object] | None,
        **options: Any,
    ) -> Engine:
        return _engine(models, kind, start, defer, intent_log(), **options)

    return make


def _engine(
    models: Path,
    kind: str,
    start: float,
    defer: Callable[[Callable[[], None]], object] | None,
    orders: Any,
    **options: Any,
) -> Engine:
    engine = Engine(
        EngineParts(core=CoreConfig(), gate=PERMISSIVE),
        SimulatedClock(start),
        emulators=EmulatorSet.load(models, f"{kind}_full.onnx", f"{kind}_lite.onnx"),
        strategy=DivergenceStrategy(),
        orders=orders,
        defer=defer,
        **options,
    )
    engine.keep_records = True
    return engine


def _models(kind: str, tiny_models: Path, transformer_models: Path) -> Path:
    return tiny_models if kind == "gru" else transformer_models


def _assert_same_run(engine: Engine, alone: Engine) -> None:
    assert len(alone.records) > 150
    assert engine.records == alone.records
    assert engine.decisions == alone.decisions
    assert engine.orders.intents == alone.orders.intents  # type: ignore[union-attr]
    assert len(alone.orders.intents) > 0  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_points_foreseen_between_every_event_are_the_points_run_on_the_spot(
    make_engine, match_events, tiny_models, transformer_models, feed, kind
):
    _meta, events = match_events
    models = _models(kind, tiny_models, transformer_models)
    alone = make_engine(models, kind, events[0][0], defer=None)
    feed(alone, events)
    deferred = _Deferred()
    foreseeing = make_engine(models, kind, events[0][0], defer=deferred)

    feed(foreseeing, events, after=lambda *_event: deferred.run())

    _assert_same_run(foreseeing, alone)
    counts = foreseeing.summary()["emulator_foresight"]
    assert counts["error"] == 0
    assert counts["hit"] == len(alone.records)  # nothing moved between foresight and point
    assert counts["miss"] == 0
    assert sum(foreseeing.metrics.stage_timer(Stage.FORESIGHT).counts) > len(alone.records)
    assert foreseeing.foresight_steps_kept > 0  # book changes that moved no token
    assert alone.summary()["emulator_foresight"] == {
        "hit": 0,
        "miss": 0,
        "error": 0,
        "steps_kept": 0,
    }


def test_a_book_that_moved_since_the_foresight_makes_the_point_a_miss(
    make_engine, match_events, tiny_models, feed
):
    _meta, events = match_events
    alone = make_engine(tiny_models, "gru", events[0][0], defer=None)
    feed(alone, events)
    deferred = _Deferred()
    foreseeing = make_engine(tiny_models, "gru", events[0][0], defer=deferred)

    markets = 0

    def after(_ts: float, kind: int, _payload: Any) -> None:
        nonlocal markets
        markets += kind == 0
        if kind == 0 and markets % 3 == 0:
            return  # the next event is read in the same loop pass, before the deferred work
        deferred.run()

    feed(foreseeing, events, after=after)

    _assert_same_run(foreseeing, alone)
    counts = foreseeing.summary()["emulator_foresight"]
    assert counts["miss"] > 20 and counts["hit"] > 20
    assert counts["hit"] + counts["miss"] == len(alone.records)


def _mto_before_point(events: list[tuple[float, int, Any]], n: int) -> list[Any]:
    """A medical time-out (start and end) just before the n-th point; later ticks' seq shifted."""
    out: list[Any] = []
    points = shift = 0
    for ts, kind, original in events:
        if kind == 1 and isinstance(original, Point):
            points += 1
            if points == n:
                out.append((ts, 1, MtoStart(original.match_id, original.seq, ts, 1)))
                out.append((ts, 1, MtoEnd(original.match_id, original.seq + 1, ts, 1)))
                shift = 2
        shifted = kind == 1 and shift
        out.append(
            (
                ts,
                kind,
                dataclasses.replace(original, seq=original.seq + shift) if shifted else original,
            )
        )
    return out


def test_a_medical_time_out_since_the_foresight_makes_the_point_a_miss(
    make_engine, match_events, tiny_models, feed
):
    _meta, events = match_events
    with_mto = _mto_before_point(events, 41)
    alone = make_engine(tiny_models, "gru", events[0][0], defer=None)
    feed(alone, with_mto)
    deferred = _Deferred()
    foreseeing = make_engine(tiny_models, "gru", events[0][0], defer=deferred)

    def after(_ts: float, _kind: int, payload: Any) -> None:
        if not isinstance(payload, (MtoStart, MtoEnd)):  # the point comes in the same loop pass
            deferred.run()

    feed(foreseeing, with_mto, after=after)

    _assert_same_run(foreseeing, alone)
    counts = foreseeing.summary()["emulator_foresight"]
    assert counts["miss"] == 1  # the point after the MTO: its token counts from it
    assert counts["hit"] == len(alone.records) - 1


def test_a_foresight_that_raises_is_counted_and_the_point_runs_on_the_spot(
    make_engine, match_events, tiny_models, feed, monkeypatch
):
    _meta, events = match_events
    alone = make_engine(tiny_models, "gru", events[0][0], defer=None)
    feed(alone, events)
    deferred = _Deferred()
    foreseeing = make_engine(tiny_models, "gru", events[0][0], defer=deferred)
    speculate = foreseeing.emulators.speculate_full
    calls = 0

    def every_third_fails(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls % 3 == 0:
            raise RuntimeError("injected")
        return speculate(*args)

    monkeypatch.setattr(foreseeing.emulators, "speculate_full", every_third_fails)

    feed(foreseeing, events, after=lambda *_event: deferred.run())

    _assert_same_run(foreseeing, alone)
    counts = foreseeing.summary()["emulator_foresight"]
    assert counts["error"] > 10 and counts["hit"] > 10 and counts["miss"] > 0


def test_a_feature_copy_is_independent_and_mutations_are_counted():
    features = MatchFeatures()
    features.on_match_open(0.6, 0.58)
    twin = features.copy()

    twin.on_mto()
    twin.on_market_label(0.5)

    assert (features.changes, twin.changes) == (1, 3)
    assert features._mto_index is None and features._prev_market == 0.58
    assert twin._mto_index == 0 and twin._prev_market == 0.5


@pytest.mark.parametrize(("budget_ns", "turns"), [(0, 3), (10**9, 1)])
def test_a_turn_foresees_until_its_budget_is_spent_and_defers_the_rest(
    make_engine, tiny_models, budget_ns, turns
):
    deferred = _Deferred()
    engine = make_engine(tiny_models, "gru", 0.0, defer=deferred, foresight_turn_ns=budget_ns)
    slots = [engine.follow(MarketInfo(f"1.{i}", f"e{i}", "A v B", None, ())) for i in range(3)]
    next_point = price_point(0.65, 0.62, MatchRules(best_of=3), MatchState(), 1.0)
    for slot in slots:  # three matches moved in one pass (no pre-match line: each is quick)
        slot.lookahead.outcomes = (next_point,)
        engine._want_foresight(slot)
    assert len(deferred.queue) == 1  # one turn asked for, however many matches moved

    ran = 0
    while deferred.queue:
        deferred.queue.pop(0)()
        ran += 1

    assert ran == turns
    assert sum(engine.metrics.stage_timer(Stage.FORESIGHT).counts) == 3  # each match once
