"""Reliability diagram for `courtside physics eval --plot` (matplotlib, Agg: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_reliability_plot(report: dict[str, Any], path: Path, title: str = "") -> None:
    """Observed frequency against mean forecast per bin, a line per tour, and the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not path.resolve().parent.is_dir():
        raise ValueError(f"plot: folder {path.parent} does not exist")
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for group in ("ATP", "WTA", "overall"):
        scores = report.get(group, {})
        table = scores.get("reliability")
        if not table:
            continue
        pairs = [
            (x, y)
            for x, y in zip(table["mean_predicted"], table["observed_frequency"], strict=True)
            if x is not None and y is not None
        ]
        xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
        label = (
            f"{group} (n={scores['n_matches']}, LL {scores['log_loss']:.3f}, "
            f"slope {scores['calibration_slope']:.2f})"
        )
        ax.plot(xs, ys, marker="o", linewidth=1.2, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(player 1 wins)")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"Reliability before every point{': ' + title if title else ''}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
