"""Deterministic synthetic tensor sets for tests, smoke runs and latency benchmarks.

The market label follows the token's fair_prob column plus a smooth offset and noise, the token's
fair_delta and residual columns are consistent with them (as the aligner writes them), MTOs happen
in a third of the matches, distress marks the 5 points after an MTO. It exercises shapes, masks,
the MTO weighting and the export path; it says nothing about accuracy on real markets.
"""

from __future__ import annotations

import numpy as np

from engine.features.schema import STATIC_DIM, TOKEN_DIM, TOKEN_INDEX
from training.tensors import NO_MTO, SPLIT_TEST, SPLIT_TRAIN, SPLIT_VAL, TensorSet


def make_synthetic_tensors(n_matches: int = 24, max_points: int = 30, seed: int = 0) -> TensorSet:
    rng = np.random.default_rng(seed)
    static = np.zeros((n_matches, STATIC_DIM), dtype=np.float32)
    static[:, 0] = rng.normal(0.0, 1.0, n_matches)
    static[np.arange(n_matches), 1 + rng.integers(0, 2, n_matches)] = 1.0
    static[np.arange(n_matches), 3 + rng.integers(0, 4, n_matches)] = 1.0
    seq = rng.normal(0.0, 0.3, (n_matches, max_points, TOKEN_DIM)).astype(np.float32)
    y = np.zeros((n_matches, max_points), dtype=np.float32)
    mask = np.zeros((n_matches, max_points), dtype=np.bool_)
    distress = np.zeros((n_matches, max_points), dtype=np.float32)
    pts = np.full((n_matches, max_points), NO_MTO, dtype=np.int16)
    for m in range(n_matches):
        length = int(rng.integers(max_points // 2, max_points + 1))
        mask[m, :length] = True
        walk = static[m, 0] + np.cumsum(rng.normal(0.0, 0.25, length))
        fair = 1.0 / (1.0 + np.exp(-walk))
        seq[m, :length, TOKEN_INDEX["fair_prob"]] = fair
        if m % 3 == 0 and length > 4:
            start = int(rng.integers(1, length - 2))
            since = np.arange(length - start)
            pts[m, start:length] = np.minimum(since, NO_MTO)
            seq[m, :length, TOKEN_INDEX["mto_flag"]] = 0.0
            seq[m, start:length, TOKEN_INDEX["mto_flag"]] = 1.0
            seq[m, :length, TOKEN_INDEX["pts_since_mto"]] = pts[m, :length] / NO_MTO
            seq[m, start:length, TOKEN_INDEX["exp_decay_mto"]] = np.exp(-since / 10.0)
            distress[m, start : min(start + 5, length)] = 1.0
        offset = 0.08 * np.tanh(3.0 * seq[m, :length, TOKEN_INDEX["back_prob"]])
        noise = rng.normal(0.0, 0.003, length)
        y[m, :length] = np.clip(fair + offset + noise, 0.0, 1.0)
        # the timing contract's columns: the move of the fair price over the point and the
        # previous label's gap to the previous fair price (both 0 on the first point)
        seq[m, :length, TOKEN_INDEX["fair_delta"]] = np.diff(fair, prepend=fair[0])
        seq[m, 0, TOKEN_INDEX["residual"]] = 0.0
        seq[m, 1:length, TOKEN_INDEX["residual"]] = y[m, : length - 1] - fair[: length - 1]
        seq[m, length:] = 0.0
    split = np.full(n_matches, SPLIT_TRAIN, dtype=np.int8)
    split[n_matches * 3 // 5 : n_matches * 4 // 5] = SPLIT_VAL
    split[n_matches * 4 // 5 :] = SPLIT_TEST
    return TensorSet(
        static=static,
        seq=seq,
        y=y,
        mask=mask,
        distress=distress,
        pts_since_mto=pts,
        split=split,
    )
