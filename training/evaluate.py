"""Score exported emulators on held-out matches exactly as the engine runs them (ONNX Runtime,
one step per point through engine.models.runner), next to naive baselines built from the same
tokens, so the validation table says what the models add.

Baselines (all read from the token, so they use only what the emulator sees):
* previous label — the market's previous probability (residual + previous fair price);
* previous label + fair move — the previous market probability moved by the physics model's
  change over the point (fair_delta), clipped to [0, 1];
* physics fair price — the model's own fair probability;
* anchor — what the emulators' price head corrects (training.models.anchor_terms): the last market
  price (the token's £50 book mid, else the previous label) moved by the physics logit change; an
  untrained emulator predicts exactly this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.features.schema import TOKEN_INDEX
from engine.models.runner import load_emulator
from training.metrics import POST_MTO_POINTS, emulator_metrics
from training.models import anchor_terms
from training.tensors import TensorSet

Array = np.ndarray[Any, np.dtype[Any]]
ANCHOR_NAME = "anchor (last market price + fair logit move)"
ANCHOR_BASELINE = f"baseline: {ANCHOR_NAME}"  # as evaluate_models names it


def onnx_predictions(onnx_path: Path, data: TensorSet) -> tuple[Array, Array]:
    """(price, distress probability), each (N, T), stepping every match through the runner."""
    runner = load_emulator(onnx_path)
    price = np.zeros(data.y.shape, dtype=np.float32)
    distress = np.zeros(data.y.shape, dtype=np.float32)
    for i in range(data.static.shape[0]):
        state = runner.new_state()
        runner.reset(state, data.static[i])
        for t in range(int(data.lengths[i])):
            out = runner.step(state, data.seq[i, t])
            price[i, t] = out.price
            distress[i, t] = out.distress
    return price, distress


def baseline_prices(data: TensorSet) -> dict[str, Array]:
    seq = data.seq
    fair = seq[..., TOKEN_INDEX["fair_prob"]]
    delta = seq[..., TOKEN_INDEX["fair_delta"]]
    previous = seq[..., TOKEN_INDEX["residual"]] + fair - delta
    # first point: no previous label in the token; use the fair price
    previous[:, 0] = fair[:, 0]
    with torch.no_grad():
        tokens = torch.from_numpy(seq)
        last, move = anchor_terms(tokens)
        anchor = torch.sigmoid(last + move).numpy()
    return {
        ANCHOR_NAME: anchor,
        "previous label": previous,
        "previous label + fair move": np.clip(previous + delta, 0.0, 1.0),
        "physics fair price": fair,
    }


def evaluate_models(onnx_paths: list[Path], data: TensorSet) -> dict[str, dict[str, float]]:
    """name -> metrics (rmse_ppt, rmse_post_mto_ppt, distress_auc, points) on `data`."""
    results: dict[str, dict[str, float]] = {}
    common = {
        "y": data.y,
        "distress": data.distress,
        "mask": data.mask,
        "pts_since_mto": data.pts_since_mto,
    }
    post_mto = float((data.mask & (data.pts_since_mto < POST_MTO_POINTS)).sum())
    for path in onnx_paths:
        price, distress = onnx_predictions(path, data)
        results[path.stem] = {
            **emulator_metrics(price, distress, **common),
            "post_mto_points": post_mto,
        }
    no_distress = np.zeros(data.y.shape, dtype=np.float32)
    for name, price in baseline_prices(data).items():
        metrics = emulator_metrics(price, no_distress, **common)
        metrics.pop("distress_auc", None)
        results[f"baseline: {name}"] = {**metrics, "post_mto_points": post_mto}
    return results
