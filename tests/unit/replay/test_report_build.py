"""report.json numbers from hand-made task outputs: P&L, emulator pairing, shadow MTO."""

from __future__ import annotations

from typing import Any

import pytest

from replay.report.build import TaskData, compute_report, shadow_mto


def _prediction(match: str, i: int, market: float, emu: float, fair: float) -> dict[str, Any]:
    return {
        "match_id": match,
        "point_index": i,
        "ts": 100.0 + i,
        "market_prob": market,
        "fair_prob": fair,
        "emu_full": {"price": emu},
        "emu_lite": None,
        "gate": {"reason": "open"},
    }


def _task(
    task_id: str,
    net: float,
    matched: float,
    closed_at: float,
    predictions: list[dict[str, Any]] | None = None,
    gate: list[dict[str, Any]] | None = None,
    mto: list[tuple[float, float | None]] | None = None,
) -> TaskData:
    market = f"1.{task_id}"
    return TaskData(
        task_id=task_id,
        result={
            "events": 10,
            "engine": {"gate_decisions": {"open": 3}},
            "markets": {
                market: {
                    "match_id": task_id,
                    "selections": [11, 22],
                    "winner_selection": 11,
                    "closed_at": closed_at,
                }
            },
            "settlements": {
                market: {"net": net, "gross": net, "commission": 0.0, "closed_at": closed_at}
            },
        },
        predictions=predictions or [],
        gate=gate or [],
        orders=[
            {
                "market_id": market,
                "state": "COMPLETE",
                "size": matched + 2.0,
                "size_matched": matched,
            },
            {"market_id": market, "state": "RISK_REJECTED", "size": 50.0, "size_matched": 0.0},
        ],
        fills=[],
        would_be=[],
        mto_windows={task_id: mto} if mto else {},
    )


def test_pnl_figures_follow_settlement_order() -> None:
    # settled in the order b (+10), a (-30), c (+5): curve 10, -20, -15; drawdown 30
    tasks = [_task("a", -30.0, 20.0, 2.0), _task("b", 10.0, 10.0, 1.0), _task("c", 5.0, 10.0, 3.0)]

    report = compute_report(tasks, shadow=False)

    summary = report["summary"]
    assert report["pnl_curve"] == [10.0, -20.0, -15.0]
    assert summary["pnl"] == -15.0
    assert summary["turnover"] == 40.0
    assert summary["roi_on_turnover"] == pytest.approx(-15.0 / 40.0)
    assert summary["max_drawdown"] == 30.0
    # risk-rejected orders never reached the exchange: not in the fill rate's denominator
    assert summary["fill_rate"] == pytest.approx(40.0 / 46.0)
    assert summary["orders_by_state"] == {"COMPLETE": 3, "RISK_REJECTED": 3}


def test_emulator_rmse_pairs_each_point_with_the_next_market_price() -> None:
    rows = [
        _prediction("a", 2, market=0.52, emu=0.55, fair=0.6),
        _prediction("a", 1, market=0.50, emu=0.51, fair=0.6),
        _prediction("a", 3, market=0.54, emu=0.99, fair=0.6),
    ]
    task = _task("a", 0.0, 0.0, 1.0, predictions=rows)

    summary = compute_report([task], shadow=False)["summary"]

    # pairs (0.51, 0.52) and (0.55, 0.54); point 3 has no next market price
    assert summary["emu_full_rmse_pairs"] == 2
    assert summary["emu_full_rmse_ppt"] == pytest.approx(1.0)
    assert summary["emu_lite_rmse_ppt"] is None
    assert summary["fair_scored_points"] == 3  # player 1 (selection 11) won


def _gate(ts: float, open_: bool, failing: list[str]) -> dict[str, Any]:
    return {"ts": ts, "match": "a", "open": open_, "reason": "x", "failing": failing}


def test_shadow_mto_scores_the_gate_against_the_flags() -> None:
    gate = [
        _gate(10.0, True, []),
        _gate(21.0, False, ["mto"]),
        _gate(25.0, True, []),  # open inside the time-out: a miss
        _gate(40.0, False, ["mto"]),  # after the end: the post-MTO block, not counted inside
    ]
    flagged = _task("a", 0.0, 0.0, 1.0, gate=gate, mto=[(20.0, 30.0)])
    unflagged = _task("b", 0.0, 0.0, 1.0, gate=[{**_gate(5.0, False, ["mto"]), "match": "b"}])

    result = shadow_mto([flagged, unflagged])

    assert result["mto_flags"] == 1
    assert result["mto_flags_gate_closed"] == 1
    assert result["open_decisions_inside_mto"] == 1
    assert result["mto_closures_without_flag"] == 1
    assert result["windows"][0]["first_close_delay_s"] == pytest.approx(1.0)
