"""report.html: one self-contained page (figures inline as base64 PNG, no external assets)."""

from __future__ import annotations

import html
from typing import Any

from replay.report.build import TaskData
from replay.report.figures import calibration_plot, pnl_curve, price_chart

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
img{max-width:100%}
"""

_SUMMARY_LABELS = (
    ("pnl", "P&L (£)"),
    ("turnover", "turnover (matched £)"),
    ("roi_on_turnover", "ROI on turnover"),
    ("sharpe_per_market", "Sharpe (per-market returns)"),
    ("max_drawdown", "max drawdown (£)"),
    ("fill_rate", "fill rate (matched / submitted)"),
    ("orders", "orders"),
    ("markets_settled", "markets settled"),
    ("markets_traded", "markets traded"),
    ("points_priced", "points priced"),
    ("emu_full_rmse_ppt", "Emu-full RMSE (ppt)"),
    ("emu_lite_rmse_ppt", "Emu-lite RMSE (ppt)"),
    ("fair_vs_market_rmse_ppt", "fair vs market RMSE (ppt)"),
    ("fair_log_loss", "fair log loss"),
    ("fair_brier", "fair Brier"),
    ("would_be_orders", "would-be orders (shadow)"),
    ("would_be_stake", "would-be stake (shadow, £)"),
    ("events", "events replayed"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def render_html(report: dict[str, Any], tasks: list[TaskData]) -> str:
    summary = report["summary"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>courtside replay report</title><style>{_STYLE}</style></head><body>",
        "<h1>courtside replay report</h1>",
        f"<p>{'Shadow run: zero stakes, would-be orders only. ' if report['shadow'] else ''}"
        f"{summary['tasks']} task(s), {summary['events']:,} events.</p>",
        "<h2>Summary</h2>",
        _table(["metric", "value"], [[label, summary.get(key)] for key, label in _SUMMARY_LABELS]),
        "<h2>Gate decisions by reason</h2>",
    ]
    gate = report["gate"]
    reasons = sorted(
        set(gate["decisions_by_reason"])
        | set(gate["gate_events_by_reason"])
        | set(gate["points_gate_by_reason"])
    )
    parts.append(
        _table(
            ["reason", "judgements", "gate events (changes)", "at points"],
            [
                [
                    r,
                    gate["decisions_by_reason"].get(r, 0),
                    gate["gate_events_by_reason"].get(r, 0),
                    gate["points_gate_by_reason"].get(r, 0),
                ]
                for r in reasons
            ],
        )
    )
    if "shadow_mto" in report:
        mto = report["shadow_mto"]
        parts.append("<h2>Trust gate against MTO flags</h2>")
        parts.append(
            _table(
                [
                    "MTO flags",
                    "gate closed for MTO",
                    "open decisions inside MTO",
                    "MTO closures without flag",
                ],
                [
                    [
                        mto["mto_flags"],
                        mto["mto_flags_gate_closed"],
                        mto["open_decisions_inside_mto"],
                        mto["mto_closures_without_flag"],
                    ]
                ],
            )
        )
    parts.append("<h2>P&amp;L</h2>")
    markets = report["markets"]
    if markets:
        parts.append(_img(pnl_curve(report["pnl_curve"], [r["task_id"] for r in markets]), "P&L"))
    parts.append(
        _table(
            ["task", "market", "net £", "gross £", "commission £", "turnover £", "return"],
            [
                [
                    r["task_id"],
                    r["market_id"],
                    r["net"],
                    r["gross"],
                    r["commission"],
                    r["turnover"],
                    r["return"],
                ]
                for r in markets
            ],
        )
    )
    parts.append("<h2>Fair model calibration</h2>")
    parts.append(_img(calibration_plot(report["calibration"]), "calibration"))
    parts.append("<h2>Matches</h2>")
    for task in tasks:
        by_match: dict[str, list[dict[str, Any]]] = {}
        for row in task.predictions:
            by_match.setdefault(str(row["match_id"]), []).append(row)
        for match_id, rows in sorted(by_match.items()):
            selections = next(
                (
                    mk.get("selections")
                    for mk in task.result["markets"].values()
                    if mk.get("match_id") == match_id
                ),
                None,
            )
            market_ids = {
                mid for mid, mk in task.result["markets"].items() if mk.get("match_id") == match_id
            }
            fills = [f for f in task.fills if f["market_id"] in market_ids]
            png = price_chart(match_id, rows, task.gate, fills, selections)
            parts.append(f"<h3>{html.escape(match_id)}</h3>{_img(png, match_id)}")
    parts.append("</body></html>")
    return "\n".join(parts)
