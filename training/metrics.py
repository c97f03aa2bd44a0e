"""Validation metrics of an emulator, numpy only: price RMSE in probability points, RMSE in the
20 points after an MTO, RMSE from each match's second point on, distress AUC.

The second-point RMSE is reported because a match's first point is special for emu_lite: with no
book and no previous label it cannot know where the market opened in-play (the simulated market,
like a real one, knows the players better than the pre-match line), so a handful of first points
can dominate its RMSE."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = np.ndarray[Any, np.dtype[Any]]
POST_MTO_POINTS = 20


def rmse_ppt(pred: Array, target: Array, mask: Array) -> float:
    """Root mean squared error × 100 (probability points) over mask; NaN when mask is empty."""
    sel = mask.astype(bool)
    if not sel.any():
        return math.nan
    err = pred[sel].astype(np.float64) - target[sel].astype(np.float64)
    return float(np.sqrt(np.mean(err**2)) * 100.0)


def auc(scores: Array, labels: Array) -> float:
    """Rank-based ROC AUC (ties averaged); NaN when only one class is present."""
    s = scores.astype(np.float64).ravel()
    lab = labels.astype(bool).ravel()
    pos, neg = int(lab.sum()), int((~lab).sum())
    if pos == 0 or neg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return float((ranks[lab].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def emulator_metrics(
    price: Array,
    distress_prob: Array,
    *,
    y: Array,
    distress: Array,
    mask: Array,
    pts_since_mto: Array,
) -> dict[str, float]:
    """The validation table's numbers; NaN-valued metrics (no such points) are left out."""
    valid = mask.astype(bool)
    post_mto = valid & (pts_since_mto < POST_MTO_POINTS)
    later = valid.copy()
    later[:, :1] = False
    metrics = {
        "rmse_ppt": rmse_ppt(price, y, valid),
        "rmse_post_mto_ppt": rmse_ppt(price, y, post_mto),
        "rmse_from_point_2_ppt": rmse_ppt(price, y, later),
        "distress_auc": auc(distress_prob[valid], distress[valid]),
        "points": float(valid.sum()),
    }
    return {k: v for k, v in metrics.items() if not math.isnan(v)}
