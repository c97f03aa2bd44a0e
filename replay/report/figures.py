"""The report's matplotlib figures, each returned as a base64 PNG for a self-contained HTML page.

Matplotlib is used through its object API with the Agg canvas (no global pyplot state, no
display), so figures can be drawn in any process.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

_DPI = 90


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _p1_prob(fill: dict[str, Any], selections: list[int] | None) -> float | None:
    """A fill's price as player 1's implied probability."""
    price = float(fill["price"])
    if price <= 1.0 or not selections:
        return None
    implied = 1.0 / price
    return implied if fill["selection_id"] == selections[0] else 1.0 - implied


def price_chart(
    match_id: str,
    predictions: list[dict[str, Any]],
    gate: list[dict[str, Any]],
    fills: list[dict[str, Any]],
    selections: list[int] | None,
) -> str:
    """Player 1's probability per point: market, Emu-full, Emu-lite and fair; trades (▲ back,
    ▼ lay) and gate events (shaded while open, ✕ where it closed for an MTO)."""
    fig = Figure(figsize=(10, 3.6))
    ax = fig.add_subplot()
    rows = sorted(predictions, key=lambda r: int(r["point_index"]))
    origin = float(rows[0]["ts"]) if rows else 0.0

    def minutes(ts: float) -> float:
        return (ts - origin) / 60.0

    xs = [minutes(float(r["ts"])) for r in rows]
    series: tuple[tuple[str, Callable[[dict[str, Any]], Any], str, float], ...] = (
        ("market", lambda r: r.get("market_prob"), "black", 1.6),
        ("fair", lambda r: r.get("fair_prob"), "tab:blue", 1.2),
        ("Emu-full", lambda r: (r.get("emu_full") or {}).get("price"), "tab:orange", 1.0),
        ("Emu-lite", lambda r: (r.get("emu_lite") or {}).get("price"), "tab:green", 1.0),
    )
    for label, pick, colour, width in series:
        points = [(x, pick(r)) for x, r in zip(xs, rows, strict=True) if pick(r) is not None]
        if points:
            px = [x for x, _ in points]
            py = [float(y) for _, y in points]
            ax.plot(px, py, label=label, color=colour, linewidth=width)
    open_since: float | None = None
    for row in gate:
        if row["match"] != match_id:
            continue
        x = minutes(float(row["ts"]))
        if row["open"] and open_since is None:
            open_since = x
        elif not row["open"] and open_since is not None:
            ax.axvspan(open_since, x, color="tab:green", alpha=0.12, linewidth=0)
            open_since = None
        if "mto" in row.get("failing", []) and not row["open"]:
            ax.plot([x], [0.02], marker="x", color="tab:red", linestyle="none")
    if open_since is not None and xs:
        ax.axvspan(open_since, xs[-1], color="tab:green", alpha=0.12, linewidth=0)
    for side, marker, colour in (("BACK", "^", "tab:blue"), ("LAY", "v", "tab:red")):
        marks = [
            (minutes(int(f["created_ms"]) / 1000.0), p)
            for f in fills
            if f["side"] == side and (p := _p1_prob(f, selections)) is not None
        ]
        if marks:
            ax.scatter(
                [x for x, _ in marks],
                [y for _, y in marks],
                marker=marker,
                color=colour,
                s=36,
                zorder=3,
                label=f"{side.lower()} fill",
            )
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("minutes since the first point")
    ax.set_ylabel("P(player 1 wins)")
    ax.set_title(match_id)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7, ncol=6, frameon=False)
    return _png(fig)


def pnl_curve(curve: list[float], labels: list[str]) -> str:
    """Cumulative settled P&L, market by market in settlement order."""
    fig = Figure(figsize=(8, 3))
    ax = fig.add_subplot()
    ax.plot(range(len(curve) + 1), [0.0, *curve], marker="o", color="tab:blue")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("settled markets")
    ax.set_ylabel("cumulative P&L (£)")
    if len(labels) <= 12:
        ax.set_xticks(range(1, len(curve) + 1), labels, rotation=30, fontsize=7)
    ax.grid(alpha=0.3)
    return _png(fig)


def calibration_plot(bins: list[dict[str, Any]]) -> str:
    """Reliability diagram of the fair model (observed frequency vs mean forecast per bin)."""
    fig = Figure(figsize=(4.2, 4.2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    points = [(b["mean_predicted"], b["observed"], b["count"]) for b in bins if b["count"]]
    if points:
        xs, ys, _ns = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", color="tab:blue")
        for x, y, n in points:
            ax.annotate(str(n), (x, y), fontsize=6, textcoords="offset points", xytext=(3, -8))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("fair P(player 1 wins)")
    ax.set_ylabel("observed frequency")
    ax.grid(alpha=0.3)
    return _png(fig)
