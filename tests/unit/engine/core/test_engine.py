"""The engine's event path on a real recorded sample match (data/sample/2013-wimbledon-1401): real
market cache, score machine, physics, tiny exported GRU emulators (ONNX Runtime), trust gate,
prediction records and the divergence strategy, on a simulated clock."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import engine.core.engine as engine_module
from engine.clock import SimulatedClock
from engine.core import CoreConfig, Engine, EngineParts
from engine.core.emulators import EmulatorSet
from engine.execution.types import MarketState
from engine.features.schema import TOKEN_INDEX
from engine.gate import GateConfig, GateReason
from engine.gate.book import market_prob
from engine.physics.inplay import opening_fair
from engine.score.ticks import MtoEnd, MtoStart, Point, Snapshot, SnapshotScore
from engine.strategy import OrderIntent
from strategies.divergence import DivergenceStrategy

MATCH = "2013-wimbledon-1401"
# A gate that trusts any emulator (the test models are untrained) and wants a tiny edge: every other
# check (suspension, staleness, MTO, liquidity) decides alone.
PERMISSIVE = GateConfig(emu_error_max=1.0, distress_threshold=1.0, min_edge=0.001, emu_min_points=1)


class CollectingSink:
    """An OrderSink that keeps what it is given (the strategy's output is what is under test)."""

    def __init__(self) -> None:
        self.intents: list[tuple[OrderIntent, MarketState, str]] = []
        self.killed: list[str] = []

    def submit(
        self, intent: OrderIntent, market: MarketState, decision_id: str, commission: float
    ) -> None:
        self.intents.append((intent, market, decision_id))

    def kill(self, reason: str) -> None:
        self.killed.append(reason)


def _engine(
    models: Path | None, gate: GateConfig, sink: CollectingSink | None = None, start: float = 0.0
) -> Engine:
    emulators = EmulatorSet.load(models, "gru_full.onnx", "gru_lite.onnx") if models else None
    engine = Engine(
        EngineParts(core=CoreConfig(), gate=gate),
        SimulatedClock(start),
        emulators=emulators,
        strategy=DivergenceStrategy() if sink is not None else None,
        orders=sink,
    )
    engine.keep_records = True
    return engine


def _with_mto(events: list[tuple[float, int, Any]], after_point: int) -> list[Any]:
    """Insert a medical time-out after the n-th point, renumbering later ticks' seq."""
    out: list[Any] = []
    points = 0
    shift = 0
    for ts, kind, original in events:
        payload = dataclasses.replace(original, seq=original.seq + shift) if kind == 1 else original
        out.append((ts, kind, payload))
        if kind == 1 and isinstance(payload, Point):
            points += 1
            if points == after_point:
                seq = payload.seq
                out.append((ts + 1.0, 1, MtoStart(MATCH, seq + 1, ts + 1.0, 1)))
                out.append((ts + 2.0, 1, MtoEnd(MATCH, seq + 2, ts + 2.0, 1)))
                shift = 2
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def test_every_point_is_priced_and_both_emulators_step(match_events, tiny_models, feed):
    meta, events = match_events
    engine = _engine(tiny_models, GateConfig(), start=events[0][0])

    feed(engine, events)

    records = engine.records
    assert len(records) == meta["n_points"] - 1  # the last point ends the match
    assert [r.point_index for r in records] == list(range(1, meta["n_points"]))
    for record in records:
        data = orjson.loads(record.to_json())
        assert 0.0 < data["fair_prob"] < 1.0
        assert data["emu_full"]["model"] == "gru_full"
        assert data["emu_lite"]["model"] == "gru_lite"
        low, high = data["emu_full"]["band"]
        assert low <= data["emu_full"]["price"] <= high
        assert data["fair_if_point_lost"] < data["fair_prob"] < data["fair_if_point_won"]
        assert sum(data["set_score_pmf"].values()) == pytest.approx(1.0)
        assert data["rationale"].startswith("gate=")
    assert records[-1].fair_prob > 0.95  # Djokovic won in straight sets


def test_without_emulators_the_gate_never_opens(match_events, feed):
    _meta, events = match_events
    engine = _engine(None, GateConfig(), start=events[0][0])

    feed(engine, events)

    counts = engine.gate_stats.as_dict()
    assert counts.get("open", 0) == 0
    assert counts["emu_unproven"] > 0
    assert all(r.emu_full is None for r in engine.records)


def test_gate_opens_then_mto_blocks_six_points_and_raises_the_edge(match_events, tiny_models, feed):
    _meta, events = match_events
    engine = _engine(tiny_models, PERMISSIVE, start=events[0][0])

    feed(engine, _with_mto(events, after_point=40))

    by_point = {r.point_index: r.gate for r in engine.records}
    assert any(g.open for i, g in by_point.items() if i < 40)
    for i in range(41, 46):  # the tracker counts the point just played: 1..5 are blocked
        assert by_point[i].reason is GateReason.MTO, (i, by_point[i].rationale())
    assert GateReason.MTO not in by_point[46].failing
    assert by_point[46].required_edge == pytest.approx(0.002)  # doubled until point 20
    assert by_point[61].required_edge == pytest.approx(0.001)


def test_liquidity_collapse_closes_the_gate_inside_the_thin_windows(
    match_events, tiny_models, feed
):
    meta, events = match_events
    gate = dataclasses.replace(PERMISSIVE, collapse_min_cum_size=1e12)
    engine = _engine(tiny_models, gate, start=events[0][0])
    windows = meta["market_regimes"]["collapse"]
    seen: dict[str, int] = {"inside": 0, "collapse_inside": 0, "outside": 0, "collapse_outside": 0}

    def after(ts: float, kind: int, _payload: Any) -> None:
        slot = engine.markets[meta["market_id"]]
        book = engine.cache.get(slot.market_id)
        if kind != 0 or slot.decision is None or book is None or not book.inplay:
            return
        where = "inside" if any(a <= ts <= b for a, b in windows) else "outside"
        seen[where] += 1
        seen[f"collapse_{where}"] += GateReason.LIQUIDITY_COLLAPSE in slot.decision.failing

    feed(engine, events, after)

    assert seen["inside"] > 50
    assert seen["collapse_inside"] / seen["inside"] > 0.5
    assert (
        seen["collapse_inside"] / seen["inside"] > 10 * seen["collapse_outside"] / seen["outside"]
    )


def test_a_silent_score_feed_closes_the_gate_while_prices_flow(match_events, tiny_models, feed):
    _meta, events = match_events
    engine = _engine(tiny_models, PERMISSIVE, start=events[0][0])
    cut = [e for e in events if e[1] == 1][30][0]
    feed(engine, [e for e in events if e[0] <= cut])
    slot = next(iter(engine.markets.values()))
    assert slot.decision is not None and GateReason.STALE_SCORE not in slot.decision.failing
    silence = cut + PERMISSIVE.score_stale_s + 5.0

    feed(engine, [e for e in events if cut < e[0] <= silence and e[1] == 0])

    assert slot.decision.reason is GateReason.STALE_SCORE
    detail = engine.board.match(MATCH)
    assert detail is not None and detail["state"]["gate_reason"] == "stale_score"


def test_a_dead_stream_closes_the_gate_on_the_timer(match_events, tiny_models, feed):
    _meta, events = match_events
    engine = _engine(tiny_models, PERMISSIVE, start=events[0][0])
    cut = [e for e in events if e[1] == 1][30][0]
    engine.start_timer()
    feed(engine, [e for e in events if e[0] <= cut])
    slot = next(iter(engine.markets.values()))

    engine.clock.advance_to(cut + PERMISSIVE.stream_stale_s + 2.0)  # type: ignore[attr-defined]

    assert slot.decision is not None and slot.decision.reason is GateReason.STALE_STREAM
    text = engine.metrics.render().decode()
    assert 'courtside_feed_staleness_seconds{feed="market_stream"}' in text


def test_snapshot_resync_restarts_the_emulator_state(match_events, tiny_models, feed):
    _meta, events = match_events
    engine = _engine(tiny_models, PERMISSIVE, start=events[0][0])
    head = [e for e in events if e[0] <= [x for x in events if x[1] == 1][20][0]]
    feed(engine, head)
    slot = next(iter(engine.markets.values()))
    machine = engine.scores.get(MATCH)
    assert machine is not None
    snap = machine.snapshot()
    assert snap is not None and slot.emu_full is not None
    bumped = dataclasses.replace(snap, seq=snap.seq + 5)  # a gap only a snapshot can close

    engine.on_score_tick(bumped)

    assert slot.emu_full is None  # forgotten: the next point starts from the static vector
    assert slot.gate_state.emu_error.count == 0
    assert isinstance(bumped, Snapshot) and isinstance(bumped.score, SnapshotScore)


def test_strategy_intents_reach_the_order_sink_only_while_the_gate_is_open(
    match_events, tiny_models, feed
):
    _meta, events = match_events
    sink = CollectingSink()
    engine = _engine(tiny_models, PERMISSIVE, sink, start=events[0][0])

    feed(engine, events)

    assert sink.intents
    open_points = {r.point_index for r in engine.records if r.gate.open}
    for intent, market, decision_id in sink.intents:
        assert int(decision_id.split(":")[1]) in open_points
        assert market.in_play and intent.strategy == "divergence"
    assert len({d for _i, _m, d in sink.intents}) == len(sink.intents)  # idempotency keys


def test_kill_switch_stops_new_intents_and_reaches_the_sink(match_events, tiny_models, feed):
    _meta, events = match_events
    sink = CollectingSink()
    engine = _engine(tiny_models, PERMISSIVE, sink, start=events[0][0])
    engine.kill("test")

    feed(engine, events)

    assert sink.intents == []
    assert sink.killed == ["test"]
    assert engine.board.health().kill_engaged


def test_malformed_market_changes_are_counted_not_raised():
    engine = _engine(None, GateConfig())

    engine.on_market_change(1, [{"no": "id"}, {"id": 42}])

    text = engine.metrics.render().decode()
    assert 'courtside_malformed_messages_total{source="market"} 2.0' in text


def test_the_first_token_opens_the_match_on_the_market_and_the_price_at_0_0(
    match_events, tiny_models, feed
):
    meta, events = match_events
    engine = _engine(tiny_models, GateConfig(), start=events[0][0])
    assert engine.emulators is not None
    tokens: list[np.ndarray] = []
    step_full = engine.emulators.step_full

    def recording_step(slot, token):  # observe the real step's input
        tokens.append(token.copy())
        return step_full(slot, token)

    engine.emulators.step_full = recording_step  # type: ignore[method-assign]
    first_point = next(i for i, (_, kind, p) in enumerate(events) if isinstance(p, Point))
    feed(engine, events[:first_point])
    book = engine.cache.get(meta["market_id"])
    assert book is not None
    runner = book.runner(meta["selection_ids"][0])
    assert runner is not None
    opening_market = market_prob(runner)

    feed(engine, events[first_point : first_point + 1])

    slot = engine.markets[meta["market_id"]]
    assert slot.pricing is not None and len(tokens) == 1 and opening_market is not None
    fair_0_0 = opening_fair(slot.pricing.prematch_prob, slot.pricing.slope)
    token = tokens[0]
    assert token[TOKEN_INDEX["residual"]] == np.float32(opening_market - fair_0_0)
    assert token[TOKEN_INDEX["fair_delta"]] == np.float32(engine.records[0].fair_prob - fair_0_0)


def test_pricing_the_next_point_ahead_changes_no_record(
    match_events, tiny_models, monkeypatch, feed
):
    _meta, events = match_events
    ahead = _engine(tiny_models, PERMISSIVE, start=events[0][0])
    feed(ahead, events)
    monkeypatch.setattr(engine_module, "speculate", lambda *_args: ())  # price every point now
    on_the_spot = _engine(tiny_models, PERMISSIVE, start=events[0][0])

    feed(on_the_spot, events)

    assert ahead.records == on_the_spot.records
    assert ahead.decisions == on_the_spot.decisions
    points = len(ahead.records)
    # every point was foreseen: the first one when the match started (the last one, which ends
    # the match, is not priced)
    assert ahead.summary()["physics_lookahead"] == {"hit": points, "miss": 0}
    assert on_the_spot.summary()["physics_lookahead"] == {"hit": 0, "miss": points}
    text = on_the_spot.metrics.render().decode()
    assert f'courtside_physics_lookahead_total{{result="miss"}} {float(points)}' in text


def test_after_a_snapshot_the_next_point_is_priced_ahead_from_the_snapshots_score(
    match_events, tiny_models, monkeypatch, feed
):
    _meta, events = match_events
    cut = [x for x in events if x[1] == 1][20][0]
    head = [e for e in events if e[0] <= cut]
    tail = [e for e in events if e[0] > cut]

    def run() -> Engine:
        engine = _engine(tiny_models, PERMISSIVE, start=events[0][0])
        feed(engine, head)
        machine = engine.scores.get(MATCH)
        assert machine is not None
        snap = machine.snapshot()
        assert snap is not None
        engine.on_score_tick(dataclasses.replace(snap, seq=snap.seq + 5))  # a gap, then resync
        feed(engine, [(ts, k, _shifted(p, 5)) for ts, k, p in tail])
        return engine

    ahead = run()
    monkeypatch.setattr(engine_module, "speculate", lambda *_args: ())
    on_the_spot = run()

    assert len(ahead.records) > 100
    assert ahead.records == on_the_spot.records
    assert ahead.summary()["physics_lookahead"] == {"hit": len(ahead.records), "miss": 0}


def _shifted(payload: Any, by: int) -> Any:
    """A score tick renumbered after a sequence gap (market messages unchanged)."""
    return (
        dataclasses.replace(payload, seq=payload.seq + by) if hasattr(payload, "seq") else payload
    )


def test_book_listeners_see_a_market_change_only_after_the_engine_judged_it(
    match_events, tiny_models, feed
):
    _meta, events = match_events
    seen_by_listener: list[int] = []
    engine = Engine(
        EngineParts(core=CoreConfig(), gate=PERMISSIVE),
        SimulatedClock(events[0][0]),
        emulators=EmulatorSet.load(tiny_models, "gru_full.onnx", "gru_lite.onnx"),
        book_listeners=(lambda _update: seen_by_listener.append(len(engine.decisions)),),
    )
    engine.keep_records = True
    after_call: list[int] = []

    def note(_ts: float, kind: int, payload: Any) -> None:
        if kind == 0:
            after_call.extend([len(engine.decisions)] * len(payload.get("mc", [])))

    feed(engine, events, after=note)

    in_play_judgements = sum(1 for _t, _m, d in engine.decisions if d is not None)
    assert in_play_judgements > 1000
    # every listener call came after the decisions its change led to (the simulated exchange of
    # paper and replay is not in front of the engine's market decision)
    assert seen_by_listener == after_call
    assert engine.market_decided_ns > 0
