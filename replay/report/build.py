"""report.json from a run's folder: everything is recomputed from the files the tasks wrote.

`courtside report DIR` and the end of `courtside replay` both call `build_report`, so a report can
be rebuilt (or built again after a code change) without replaying. P&L comes from the simulated
exchange's settlements (result.json); the order journal is the independent record the tests check
it against.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from adapters.scores.tickfile import read_ticks
from engine.score.ticks import MtoEnd, MtoStart
from replay.report import metrics as m

REPORT_VERSION = 1


@dataclass(slots=True)
class TaskData:
    """One task's outputs, loaded."""

    task_id: str
    result: dict[str, Any]
    predictions: list[dict[str, Any]]
    gate: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    would_be: list[dict[str, Any]]
    mto_windows: dict[str, list[tuple[float, float | None]]] = field(default_factory=dict)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _mto_windows(tick_files: list[str]) -> dict[str, list[tuple[float, float | None]]]:
    """Medical time-out flags of the score feed: [start, end] per match (end None if never
    closed). A tick file that is no longer where the run read it gives no flags."""
    windows: dict[str, list[tuple[float, float | None]]] = {}
    for name in tick_files:
        if not Path(name).is_file():
            continue
        for tick in read_ticks(name):
            if isinstance(tick, MtoStart):
                windows.setdefault(tick.match_id, []).append((tick.ts, None))
            elif isinstance(tick, MtoEnd):
                rows = windows.setdefault(tick.match_id, [])
                if rows and rows[-1][1] is None:
                    rows[-1] = (rows[-1][0], tick.ts)
    return windows


def load_task(folder: Path) -> TaskData:
    result = orjson.loads((folder / "result.json").read_bytes())
    return TaskData(
        task_id=str(result["task_id"]),
        result=result,
        predictions=_jsonl(folder / "predictions.jsonl"),
        gate=_jsonl(folder / "gate.jsonl"),
        orders=_jsonl(folder / "orders.jsonl"),
        fills=_jsonl(folder / "fills.jsonl"),
        would_be=_jsonl(folder / "would_be_orders.jsonl"),
        mto_windows=_mto_windows(list(result["inputs"]["tick_files"])),
    )


def load_run(run_dir: Path) -> list[TaskData]:
    """Tasks in the run's order (run.json), else sorted by folder name."""
    manifest = run_dir / "run.json"
    tasks_dir = run_dir / "tasks"
    if manifest.is_file():
        ids = [str(t) for t in orjson.loads(manifest.read_bytes())["task_ids"]]
    elif tasks_dir.is_dir():
        ids = sorted(p.name for p in tasks_dir.iterdir() if (p / "result.json").is_file())
    else:
        raise FileNotFoundError(f"run: {run_dir} has no run.json or tasks/ folder")
    if not ids:
        raise ValueError(f"run: {run_dir} holds no finished task")
    return [load_task(tasks_dir / task_id) for task_id in ids]


def _p1_won(market: dict[str, Any]) -> int | None:
    winner = market.get("winner_selection")
    selections = market.get("selections")
    if winner is None or not selections:
        return None
    return 1 if winner == selections[0] else 0


def _match_outcomes(task: TaskData) -> dict[str, int]:
    """match_id -> 1 if player 1 won, 0 if not (settled markets only)."""
    out: dict[str, int] = {}
    for market in task.result["markets"].values():
        won = _p1_won(market)
        if won is not None and market.get("match_id"):
            out[str(market["match_id"])] = won
    return out


def _emu_pairs(predictions: list[dict[str, Any]], which: str) -> list[tuple[float, float]]:
    """(emulator price after point i, market price seen at point i+1) — the emulator's target."""
    by_match: dict[str, list[dict[str, Any]]] = {}
    for row in predictions:
        by_match.setdefault(str(row["match_id"]), []).append(row)
    pairs = []
    for rows in by_match.values():
        rows.sort(key=lambda r: int(r["point_index"]))
        for prev, nxt in itertools.pairwise(rows):
            emu = prev.get(which)
            market = nxt.get("market_prob")
            if emu is not None and market is not None:
                pairs.append((float(emu["price"]), float(market)))
    return pairs


def _market_rows(tasks: list[TaskData]) -> list[dict[str, Any]]:
    """Per settled market: net P&L, turnover, return, settlement time; in settlement order."""
    rows = []
    for task in tasks:
        matched: dict[str, float] = {}
        for order in task.orders:
            market_id = str(order["market_id"])
            matched[market_id] = matched.get(market_id, 0.0) + float(order["size_matched"])
        for market_id, settlement in task.result["settlements"].items():
            turnover = round(matched.get(market_id, 0.0), 2)
            net = float(settlement["net"])
            rows.append(
                {
                    "task_id": task.task_id,
                    "market_id": market_id,
                    "match_id": task.result["markets"].get(market_id, {}).get("match_id"),
                    "net": round(net, 2),
                    "gross": float(settlement["gross"]),
                    "commission": float(settlement["commission"]),
                    "turnover": turnover,
                    "return": round(net / turnover, 6) if turnover > 0 else None,
                    "closed_at": settlement.get("closed_at"),
                }
            )
    rows.sort(key=lambda r: (r["closed_at"] is None, r["closed_at"] or 0.0, r["market_id"]))
    return rows


def _gate_summary(tasks: list[TaskData]) -> dict[str, Any]:
    judged: dict[str, int] = {}
    transitions: dict[str, int] = {}
    for task in tasks:
        for reason, n in task.result["engine"]["gate_decisions"].items():
            judged[reason] = judged.get(reason, 0) + int(n)
        for row in task.gate:
            reason = str(row["reason"])
            transitions[reason] = transitions.get(reason, 0) + 1
    return {
        "decisions_by_reason": dict(sorted(judged.items())),
        "gate_events_by_reason": dict(sorted(transitions.items())),
        "points_gate_by_reason": _point_gate_counts(tasks),
    }


def _point_gate_counts(tasks: list[TaskData]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in tasks:
        for row in task.predictions:
            reason = str(row["gate"]["reason"])
            counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items()))


def shadow_mto(tasks: list[TaskData]) -> dict[str, Any]:
    """Trust-gate events against the score feed's medical time-out flags (the blueprint's live
    shadow book): did the gate close for every flagged MTO, how soon, did it ever show open
    inside one, and how often it cited an MTO where the feed flagged none."""
    windows_out: list[dict[str, Any]] = []
    false_alarms = 0
    for task in tasks:
        for match_id in sorted({str(r["match"]) for r in task.gate} | set(task.mto_windows)):
            windows = task.mto_windows.get(match_id, [])
            rows = [r for r in task.gate if str(r["match"]) == match_id]
            for start, end in windows:
                inside = [r for r in rows if r["ts"] >= start and (end is None or r["ts"] <= end)]
                closed = [r for r in inside if "mto" in r["failing"]]
                windows_out.append(
                    {
                        "task_id": task.task_id,
                        "match_id": match_id,
                        "start": start,
                        "end": end,
                        "decisions": len(inside),
                        "closed_for_mto": len(closed),
                        "open_inside": sum(1 for r in inside if r["open"]),
                        "first_close_delay_s": (
                            round(closed[0]["ts"] - start, 3) if closed else None
                        ),
                    }
                )
            if not windows:
                false_alarms += sum(1 for r in rows if "mto" in r["failing"])
    flagged = len(windows_out)
    detected = sum(1 for w in windows_out if int(w["closed_for_mto"]) > 0)
    return {
        "mto_flags": flagged,
        "mto_flags_gate_closed": detected,
        "open_decisions_inside_mto": sum(int(w["open_inside"]) for w in windows_out),
        "mto_closures_without_flag": false_alarms,
        "windows": windows_out,
    }


def compute_report(tasks: list[TaskData], shadow: bool) -> dict[str, Any]:
    """All report numbers (JSON-ready, deterministic for deterministic inputs)."""
    markets = _market_rows(tasks)
    traded = [r for r in markets if r["turnover"] > 0]
    net = round(sum(r["net"] for r in markets), 2)
    turnover = round(sum(r["turnover"] for r in markets), 2)
    orders = [o for t in tasks for o in t.orders]
    reached = [o for o in orders if o["state"] not in ("RISK_REJECTED", "REJECTED")]
    submitted = round(sum(float(o["size"]) for o in reached), 2)
    matched = round(sum(float(o["size_matched"]) for o in orders), 2)
    by_state: dict[str, int] = {}
    for order in orders:
        by_state[str(order["state"])] = by_state.get(str(order["state"]), 0) + 1

    probs: list[float] = []
    outcomes: list[int] = []
    for task in tasks:
        won_by_match = _match_outcomes(task)
        for row in task.predictions:
            won = won_by_match.get(str(row["match_id"]))
            if won is not None and row.get("fair_prob") is not None:
                probs.append(float(row["fair_prob"]))
                outcomes.append(won)
    predictions = [row for t in tasks for row in t.predictions]
    full_rmse, full_n = m.rmse_ppt(_emu_pairs(predictions, "emu_full"))
    lite_rmse, lite_n = m.rmse_ppt(_emu_pairs(predictions, "emu_lite"))
    market_rmse, market_n = m.rmse_ppt(
        (float(r["fair_prob"]), float(r["market_prob"]))
        for r in predictions
        if r.get("market_prob") is not None and r.get("fair_prob") is not None
    )
    summary = {
        "tasks": len(tasks),
        "events": sum(int(t.result["events"]) for t in tasks),
        "markets_settled": len(markets),
        "markets_traded": len(traded),
        "points_priced": len(predictions),
        "orders": len(orders),
        "orders_by_state": dict(sorted(by_state.items())),
        "pnl": net,
        "turnover": turnover,
        "roi_on_turnover": round(net / turnover, 6) if turnover > 0 else None,
        "sharpe_per_market": _round(m.sharpe([float(r["return"]) for r in traded])),
        "max_drawdown": round(m.max_drawdown([r["net"] for r in markets]), 2),
        "submitted_stake": submitted,
        "matched_stake": matched,
        "fill_rate": round(matched / submitted, 6) if submitted > 0 else None,
        "emu_full_rmse_ppt": _round(full_rmse),
        "emu_full_rmse_pairs": full_n,
        "emu_lite_rmse_ppt": _round(lite_rmse),
        "emu_lite_rmse_pairs": lite_n,
        "fair_vs_market_rmse_ppt": _round(market_rmse),
        "fair_vs_market_pairs": market_n,
        "fair_log_loss": _round(m.log_loss(probs, outcomes)),
        "fair_brier": _round(m.brier(probs, outcomes)),
        "fair_scored_points": len(probs),
        "would_be_orders": sum(len(t.would_be) for t in tasks),
        "would_be_stake": round(
            sum(float(w["would_be_size"]) for t in tasks for w in t.would_be), 2
        ),
    }
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "shadow": shadow,
        "summary": summary,
        "gate": _gate_summary(tasks),
        "markets": markets,
        "pnl_curve": [round(v, 2) for v in m.cumulative(r["net"] for r in markets)],
        "calibration": [asdict(b) for b in m.calibration(probs, outcomes)],
    }
    if shadow:
        report["shadow_mto"] = shadow_mto(tasks)
    return report


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def build_report(run_dir: str | Path, *, html: bool = True) -> dict[str, Any]:
    """Write report.json (and report.html) into the run folder; returns the report."""
    folder = Path(run_dir)
    tasks = load_run(folder)
    shadow = any(bool(t.result.get("shadow")) for t in tasks)
    report = compute_report(tasks, shadow)
    (folder / "report.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    if html:
        from replay.report.html import render_html

        (folder / "report.html").write_text(render_html(report, tasks), encoding="utf-8")
    return report
