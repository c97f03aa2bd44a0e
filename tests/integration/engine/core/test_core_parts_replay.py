"""The engine's building blocks on one recorded sample match (data/sample, built from real slam
points): simulated clock, registry, score machine, physics, trust gate, prediction records, metrics
and the API board, wired the way the daemon will wire them. No emulator is shipped yet, so the gate
must stay closed on every event (emu_unproven), while its other checks react to the recorded
market: suspension at the end, thin books in the simulator's liquidity-collapse windows."""

import dataclasses
import gzip
import heapq
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.api import EngineBoard, PricingInputs
from engine.clock import SimulatedClock
from engine.gate import (
    GateConfig,
    GateInputs,
    GateReason,
    GateState,
    GateStats,
    MtoTracker,
    evaluate,
)
from engine.gate.book import liquidity, market_prob
from engine.market.cache import MarketCache
from engine.metrics import EngineMetrics, Stage
from engine.physics.pricing import price
from engine.prediction import PredictionRecord
from engine.registry import MatchRegistry, ScoreMatchInfo, market_info_from_definition
from engine.score.machine import MatchScoreMachine
from engine.score.stats import STATE_CHANGING, ScoreStats
from engine.score.ticks import MatchStart, Point, decode_tick

MATCH = "2013-wimbledon-1401"


def _events(folder: Path, market_id: str) -> list[tuple[float, int, Any]]:
    stream = []
    with gzip.open(folder / f"{market_id}.gz", "rb") as handle:
        for line in handle:
            message = orjson.loads(line)
            stream.append((message["pt"] / 1000.0, 0, message))
    ticks = [
        (tick.ts, 1, tick)
        for tick in map(decode_tick, (folder / "ticks.jsonl").read_bytes().splitlines())
    ]
    return list(heapq.merge(stream, ticks, key=lambda e: (e[0], e[1])))


@dataclasses.dataclass
class Run:
    decisions: list[tuple[float, Any]]
    records: list[PredictionRecord]
    stats: GateStats
    metrics: EngineMetrics
    board: EngineBoard
    selections: tuple[int, int] | None
    thin_inside: int = 0
    updates_inside: int = 0
    thin_outside: int = 0
    updates_outside: int = 0


def _replay(repo_root: Path, config: GateConfig) -> tuple[Run, dict[str, Any]]:
    folder = repo_root / "data" / "sample" / MATCH
    meta = json.loads((folder / "match.json").read_text())
    market_id = meta["market_id"]
    pa, pb = meta["hidden_truth"]["pa_line"], meta["hidden_truth"]["pb_line"]
    windows = meta["market_regimes"]["collapse"]

    clock = SimulatedClock()
    registry = MatchRegistry()
    cache = MarketCache()
    machine = MatchScoreMachine(MATCH, ScoreStats())
    mto = MtoTracker()
    state = GateState(config)
    stats = GateStats()
    metrics = EngineMetrics()
    board = EngineBoard(clock)
    run = Run([], [], stats, metrics, board, None)
    last_tick_at: float | None = None
    last_stream_at: float | None = None
    points = 0

    def decide(now: float) -> Any:
        book = cache.get(market_id)
        link = registry.link(market_id)
        runner = book.runner(link.selections[0]) if book and link and link.selections else None
        depth, cum_size = liquidity(runner, config.depth_levels) if runner else (0.0, 0.0)
        score_state = machine.to_pricing_state()
        fair = None
        market = market_prob(runner) if runner else None
        if score_state is not None and machine.rules is not None:
            with metrics.stage_timer(Stage.PHYSICS):
                fair = price(pa, pb, machine.rules, score_state).p_match
        inputs = GateInputs(
            fair_prob=fair,
            market_prob=market,
            has_score_feed=bool(link and link.tradable),
            suspended=book is None or not book.open or machine.phase != "in_play",
            stream_age_s=None if last_stream_at is None else now - last_stream_at,
            score_age_s=None if last_tick_at is None else now - last_tick_at,
            score_trusted=machine.trusted,
            mto_running=mto.running,
            pts_since_mto=mto.pts_since_mto,
            depth=depth,
            cum_size=cum_size,
        )
        with metrics.stage_timer(Stage.GATE):
            decision = evaluate(config, state, inputs)
        stats.count(decision.reason)
        metrics.count_gate(decision.reason)
        run.decisions.append((now, decision))
        return decision, fair, score_state, market

    for ts, kind, payload in _events(folder, market_id):
        clock.advance_to(ts)
        now = clock.time()
        if kind == 0:
            metrics.message_counter("market", "mcm").inc()
            last_stream_at = now
            for change in payload.get("mc", []):
                definition = change.get("marketDefinition")
                cache.apply(change, payload["pt"])
                if definition is not None and registry.link(market_id) is None:
                    registry.add_market(market_info_from_definition(market_id, definition))
            book = cache.get(market_id)
            link = registry.link(market_id)
            if book is not None and book.inplay and link is not None and link.selections:
                runner = book.runner(link.selections[0])
                if runner is not None:
                    depth, _ = liquidity(runner, config.depth_levels)
                    state.observe_depth(depth)
                    decision = decide(now)[0]
                    inside = any(a <= now <= b for a, b in windows)
                    thin = GateReason.LIQUIDITY_COLLAPSE in decision.failing
                    if inside:
                        run.updates_inside += 1
                        run.thin_inside += thin
                    else:
                        run.updates_outside += 1
                        run.thin_outside += thin
            continue
        outcome = machine.apply(payload, received_at=now)
        mto.observe(payload, outcome)
        metrics.score_ticks.labels(str(outcome)).inc()
        last_tick_at = now
        if isinstance(payload, MatchStart):
            registry.add_score_match(ScoreMatchInfo(MATCH, payload.players, payload.ts))
        if isinstance(payload, Point) and outcome in STATE_CHANGING:
            points += 1
            decision, fair, score_state, market = decide(now)
            if fair is None or score_state is None or machine.rules is None:
                continue  # the match is over: nothing left to price
            pricing = price(pa, pb, machine.rules, score_state)
            record = PredictionRecord(
                MATCH,
                points,
                now,
                pricing.p_match,
                pricing.expected_games_diff,
                pricing.set_score_pmf,
                decision,
                market_prob=market,
                fair_if_point_won=pricing.if_point_won,
                fair_if_point_lost=pricing.if_point_lost,
            )
            run.records.append(record)
            board.publish(
                MATCH,
                {"market_id": market_id, "phase": machine.phase},
                record,
                PricingInputs(pa, pb, machine.rules, score_state),
            )
    link = registry.link(market_id)
    run.selections = link.selections if link else None
    return run, meta


@pytest.fixture(scope="module")
def default_run(repo_root):
    return _replay(repo_root, GateConfig())


def test_registry_links_the_market_to_the_feed_in_player_order(default_run):
    run, meta = default_run

    assert run.selections == tuple(meta["selection_ids"])


def test_a_json_prediction_for_every_point_but_the_last(default_run):
    run, meta = default_run

    assert len(run.records) == meta["n_points"] - 1
    for record in run.records:
        data = orjson.loads(record.to_json())
        assert 0.0 < data["fair_prob"] < 1.0
        assert sum(data["set_score_pmf"].values()) == pytest.approx(1.0)
        assert data["rationale"].startswith("gate=closed")
    assert [r.point_index for r in run.records] == list(range(1, meta["n_points"]))


def test_without_an_emulator_the_gate_never_opens_and_every_decision_is_counted(default_run):
    run, _ = default_run

    assert run.decisions
    assert all(GateReason.EMU_UNPROVEN in d.failing for _, d in run.decisions)
    assert run.stats.total(GateReason.OPEN) == 0
    assert sum(run.stats.as_dict().values()) == len(run.decisions)
    text = run.metrics.render().decode()
    assert "courtside_gate_decisions_total" in text
    assert 'courtside_stage_latency_seconds_count{stage="gate"}' in text


def test_the_market_suspension_at_the_end_closes_the_gate_for_that_reason(default_run):
    run, meta = default_run

    final = [d for ts, d in run.decisions if ts >= meta["close_ts"] - 600]
    assert any(d.reason is GateReason.SUSPENDED for d in final)
    assert all(d.reason is not GateReason.NO_SCORE_FEED for _, d in run.decisions[-50:])


def test_board_serves_the_latest_prediction_and_pricing_inputs(default_run):
    run, _ = default_run

    detail = run.board.match(MATCH)

    assert detail is not None
    assert detail["prediction"]["point_index"] == run.records[-1].point_index
    assert run.board.pricing_inputs(MATCH) is not None


def test_thin_book_check_flags_the_simulated_collapse_windows(repo_root):
    """The depth half of the collapse rule, with the £ floor lifted (the recorded ladder never
    falls under £100, see the README): thin books concentrate in the simulator's windows."""
    config = dataclasses.replace(GateConfig(), collapse_min_cum_size=1e12)

    run, _ = _replay(repo_root, config)

    assert run.updates_inside > 50
    inside_share = run.thin_inside / run.updates_inside
    outside_share = run.thin_outside / run.updates_outside
    assert inside_share > 0.5
    assert inside_share > 10 * outside_share
