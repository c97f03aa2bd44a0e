"""THE end-to-end test: `courtside run --mode demo` wiring, in-process, on one bundled sample match.

The loopback exchange publishes the recorded market at ×500 over a real socket to the stream client,
the loopback score provider publishes its ticks (plus an injected medical time-out) over a real
WebSocket to the score client, the engine prices every point with tiny exported ONNX emulators and
the divergence strategy trades against the simulated exchange through the order manager and its
SQLite journal. While it runs, the control API is polled over HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from adapters.app.daemon import DemoRun, RunOptions
from adapters.app.demo import DemoDay, load_demo_day
from adapters.app.settings import parse_settings
from engine.gate import GateReason
from engine.score.ticks import MtoEnd, MtoStart, Point, ScoreTick

MATCH = "2013-wimbledon-1401"
REHEARSED = "2013-wimbledon-1402"
SPEED = 500.0
MTO_AFTER_POINT = 60
KILL_AFTER = 150  # predictions before the test pulls the kill switch over HTTP
KILL_TOKEN = "e2e-kill-token"


def _settings(models: Path, repo_root: Path, predictions: Path) -> Any:
    return parse_settings(
        {
            "core": {
                "models_dir": str(models),
                "emu_full": "gru_full.onnx",
                "emu_lite": "gru_lite.onnx",
            },
            # untrained test emulators: trust them, want a tiny edge; lift the liquidity floor so
            # the simulator's thin-book windows trip the collapse rule (the recorded ladder never
            # falls under £100); a stream gap of 20 ms wall (10 s at ×500) is scheduling noise
            "gate": {
                "emu_error_max": 1.0,
                "distress_threshold": 1.0,
                "min_edge": 0.001,
                "emu_min_points": 1,
                "collapse_min_cum_size": 1e12,
                "stream_stale_s": 120.0,
            },
            "daemon": {
                "demo_data": str(repo_root / "data" / "sample"),
                "predictions_path": str(predictions),
                # another match than the one traded, so anything of the shadow's that leaked
                # into the API, the journal or the orders would show
                "rehearse_match": str(repo_root / "data" / "sample" / REHEARSED),
                "rehearse_every_ms": 2.0,
            },
            "api": {"port": 0},
        }
    )


def _with_mto(day: DemoDay, after_point: int) -> tuple[DemoDay, float, float]:
    """The day with a medical time-out (player 2) after the n-th point; later seqs renumbered."""
    ticks: list[ScoreTick] = []
    points, shift = 0, 0
    start = end = 0.0
    for original in day.ticks:
        tick = dataclasses.replace(original, seq=original.seq + shift)
        ticks.append(tick)
        if isinstance(tick, Point):
            points += 1
            if points == after_point:
                start, end = tick.ts + 2.0, tick.ts + 10.0
                ticks.append(MtoStart(MATCH, tick.seq + 1, start, 2))
                ticks.append(MtoEnd(MATCH, tick.seq + 2, end, 2))
                shift = 2
    ticks.sort(key=lambda t: t.ts)
    return dataclasses.replace(day, ticks=ticks), start, end


@dataclasses.dataclass
class Observed:
    summary: dict[str, Any]
    run: DemoRun
    day: DemoDay
    reasons_seen: set[str]
    ids_seen: set[str]
    metrics_text: str
    match_detail: dict[str, Any]
    health_codes: set[int]
    predictions_path: Path | None = None
    intents_at_kill: int | None = None
    frozen_while_running: int = 0  # objects in gc's permanent generation while prices flowed


async def _poll(run: DemoRun, task: asyncio.Task[Any], seen: Observed) -> None:
    await asyncio.wait_for(run.ready.wait(), 60.0)
    assert run.api is not None
    seen.frozen_while_running = gc.get_freeze_count()
    base = f"http://127.0.0.1:{run.api.port}"
    async with aiohttp.ClientSession() as http:
        while not task.done():
            try:
                await _poll_once(http, base, run, seen)
            except aiohttp.ClientError:
                if run.closing or task.done():  # the API closes when the day is over
                    break
                raise
            await asyncio.sleep(0.02)


async def _poll_once(http: aiohttp.ClientSession, base: str, run: DemoRun, seen: Observed) -> None:
    async with http.get(f"{base}/matches") as response:
        body = await response.json()
    for match in body["matches"]:
        seen.reasons_seen.add(match["gate_reason"])
        seen.ids_seen.add(match["match_id"])
    async with http.get(f"{base}/health") as response:
        seen.health_codes.add(response.status)
    engine = run.engine
    if engine is not None and engine.predictions > KILL_AFTER and seen.intents_at_kill is None:
        seen.intents_at_kill = engine.intents
        headers = {"Authorization": f"Bearer {KILL_TOKEN}"}
        async with http.post(f"{base}/kill", json={"reason": "e2e"}, headers=headers) as response:
            assert response.status == 200
    if run.engine is not None and run.engine.predictions > 20 and not seen.metrics_text:
        async with http.get(f"{base}/metrics") as response:
            seen.metrics_text = await response.text()
        async with http.get(f"{base}/matches/{MATCH}") as response:
            seen.match_detail = await response.json()


@pytest.fixture(scope="module")
def observed(
    tiny_models: Path, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Observed:
    predictions = tmp_path_factory.mktemp("e2e") / "predictions.jsonl"
    settings = _settings(tiny_models, repo_root, predictions)
    day, _start, _end = _with_mto(
        load_demo_day(repo_root / "data" / "sample", (MATCH,)), MTO_AFTER_POINT
    )

    os.environ["COURTSIDE_KILL_TOKEN"] = KILL_TOKEN  # read once, when the API starts

    async def main() -> Observed:
        run = DemoRun(
            settings, RunOptions(speed=SPEED), asyncio.Event(), day=day, keep_records=True
        )
        task = asyncio.create_task(run.run())
        seen = Observed({}, run, day, set(), set(), "", {}, set(), predictions)
        poller = asyncio.create_task(_poll(run, task, seen))
        seen.summary = await asyncio.wait_for(task, 240.0)
        await poller
        return seen

    try:
        return asyncio.run(main())
    finally:
        del os.environ["COURTSIDE_KILL_TOKEN"]


def test_the_day_plays_to_the_end_and_every_point_is_predicted(observed):
    summary = observed.summary

    assert summary["ended_by"] == "day_over"
    engine = summary["engine"]
    assert engine["matches_linked"] == 1
    assert engine["points_priced"] == 196
    assert engine["predictions"] == 195  # the last point ends the match
    assert engine["emulators"] == ["gru_full", "gru_lite"]
    records = observed.run.engine.records
    assert all(r.emu_full is not None and r.emu_lite is not None for r in records)
    assert records[-1].fair_prob > 0.95


def test_the_gate_opens_and_the_strategy_trades_against_the_simulator(observed):
    summary = observed.summary

    assert summary["engine"]["gate_decisions"]["open"] > 0
    assert summary["engine"]["intents"] > 0
    assert sum(summary["orders"].values()) > 0
    assert summary["settled_markets"] == 1


def test_the_medical_time_out_blocks_the_next_points(observed):
    by_point = {r.point_index: r.gate for r in observed.run.engine.records}

    for point in range(MTO_AFTER_POINT + 1, MTO_AFTER_POINT + 6):
        assert by_point[point].reason is GateReason.MTO, by_point[point].rationale()
    assert GateReason.MTO not in by_point[MTO_AFTER_POINT + 6].failing
    assert not any(GateReason.MTO in g.failing for i, g in by_point.items() if i < MTO_AFTER_POINT)


def test_the_liquidity_collapse_windows_close_the_gate(observed, repo_root):
    import json

    meta = json.loads((repo_root / "data" / "sample" / MATCH / "match.json").read_text())
    windows = meta["market_regimes"]["collapse"]  # the match's clock is not shifted (first file)
    inside = [
        d for ts, _m, d in observed.run.engine.decisions if any(a <= ts <= b for a, b in windows)
    ]
    outside = [
        d
        for ts, _m, d in observed.run.engine.decisions
        if not any(a - 30 <= ts <= b + 30 for a, b in windows)
    ]

    collapse_in = sum(GateReason.LIQUIDITY_COLLAPSE in d.failing for d in inside) / len(inside)
    collapse_out = sum(GateReason.LIQUIDITY_COLLAPSE in d.failing for d in outside) / len(outside)
    assert len(inside) > 20
    assert collapse_in > 0.5
    assert collapse_in > 10 * collapse_out


def test_a_silent_score_feed_closes_the_gate_only_after_the_staleness_limit(observed):
    # Judged on the engine's own clock: each prediction's ts is when its point tick arrived, so the
    # check does not depend on how fast the loopback feed delivered ticks at x500.
    arrivals = sorted(r.ts for r in observed.run.engine.records)
    stale = [
        ts for ts, _m, d in observed.run.engine.decisions if d.reason is GateReason.STALE_SCORE
    ]

    assert stale  # changeovers and set breaks outlast gate.score_stale_s (90 s)
    for ts in stale:
        heard = [t for t in arrivals if ts - 90.0 + 1e-6 < t <= ts]
        assert not heard, (ts, heard)


def test_the_control_api_served_matches_metrics_and_health(observed):
    assert {"open", "stale_score"} <= observed.reasons_seen
    detail = observed.match_detail
    assert detail["match_id"] == MATCH
    assert detail["prediction"]["emu_full"]["model"] == "gru_full"
    assert 0.0 < detail["prediction"]["fair_prob"] < 1.0
    text = observed.metrics_text
    assert 'courtside_stage_latency_seconds_count{stage="model"}' in text
    assert 'courtside_gate_decisions_total{reason="open"}' in text
    assert 'courtside_messages_total{source="market",type="mcm"}' in text
    assert 'courtside_score_ticks_total{outcome="applied"}' in text
    assert 200 in observed.health_codes


def test_every_prediction_is_journaled_as_a_json_line(observed):
    import orjson

    assert observed.predictions_path is not None
    lines = observed.predictions_path.read_bytes().splitlines()

    assert len(lines) == observed.summary["engine"]["predictions"]
    first = orjson.loads(lines[0])
    assert first["match_id"] == MATCH and first["point_index"] == 1
    assert first["rationale"].startswith("gate=")
    assert first["emu_lite"]["model"] == "gru_lite"


def test_the_kill_switch_pulled_over_http_stops_new_orders(observed):
    assert observed.intents_at_kill is not None
    assert observed.summary["engine"]["kill_reason"] == "e2e"
    assert observed.summary["engine"]["intents"] == observed.intents_at_kill


def test_the_start_up_heap_is_frozen_while_running_and_thawed_after(observed):
    assert observed.frozen_while_running > 10_000  # imports, models, caches: out of gc's scans
    assert gc.get_freeze_count() == 0  # the process the daemon ran in gets them back


def test_points_were_foreseen_between_events_on_the_loop(observed):
    counts = observed.summary["engine"]["emulator_foresight"]
    assert counts["error"] == 0
    assert counts["hit"] > 0  # the next point's step taken on the loop's idle turns
    assert counts["hit"] + counts["miss"] == len(observed.run.engine.records)
    assert 'courtside_emulator_foresight_total{result="hit"}' in observed.metrics_text


def test_the_rehearsal_ran_beside_the_engine_and_nothing_of_it_leaked(observed):
    rehearsal = observed.summary["rehearsal"]
    assert rehearsal["every_ms"] == 2.0 and not rehearsal["broken"]
    assert rehearsal["points"] > 50 and rehearsal["intents_discarded"] > 0
    assert 'courtside_rehearsals_total{result="played"}' in observed.metrics_text
    traded_market = observed.day.matches[MATCH].market_id  # listed by market id until linked
    assert observed.ids_seen <= {MATCH, traded_market}  # never the rehearsed match or its market
    assert all(r.match_id == MATCH for r in observed.run.engine.records)
    assert observed.predictions_path is not None
    journaled = [orjson.loads(line) for line in observed.predictions_path.read_bytes().splitlines()]
    assert {line["match_id"] for line in journaled} == {MATCH}
