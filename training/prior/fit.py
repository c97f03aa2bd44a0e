"""Fit the serve-point prior on tour-level results with a time split, evaluate against baselines.

Split by year: train ≤ train_until, validation = the next year, test = the years after. Loss: the
binomial log-likelihood of the points won on serve (each match side weighs its serve points).
Metrics per serve point: log loss, Brier, and the RMSE of the per-match serve share (weighted by
points), for the MLP and two baselines fitted on the same training years:
- tour mean: the tour's average serve share;
- combination: server's serve share − (returner's return share − tour average return share),
  the classic additive serve/return model on the same decayed, shrunk statistics.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.features.prior_history import ServeRows
from engine.features.prior_schema import PRIOR_FEATURES
from engine.logs import get_logger
from training.prior.model import PriorMLP

log = get_logger(__name__)
Array = np.ndarray[Any, np.dtype[Any]]
_IDX = {name: i for i, name in enumerate(PRIOR_FEATURES)}


@dataclass(frozen=True, slots=True)
class PriorConfig:
    train_until: int = 2021
    max_epochs: int = 60
    patience: int = 5
    batch_size: int = 2048
    lr: float = 1e-3
    weight_decay: float = 1e-5
    seed: int = 0
    threads: int = 1
    hidden: tuple[int, int] = (128, 64)


@dataclass(slots=True)
class PriorResult:
    model: PriorMLP
    metrics: dict[str, float]
    best_epoch: int
    seconds: float


def point_metrics(p: Array, won: Array, played: Array) -> dict[str, float]:
    """Per-serve-point log loss and Brier; points-weighted RMSE of the serve share (ppt)."""
    q = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    lost = played - won
    total = float(played.sum())
    log_loss = -float((won * np.log(q) + lost * np.log(1 - q)).sum()) / total
    brier = float((won * (1 - q) ** 2 + lost * q**2).sum()) / total
    share = won / played
    rmse = math.sqrt(float((played * (share - q) ** 2).sum()) / total) * 100.0
    return {"log_loss": log_loss, "brier": brier, "share_rmse_ppt": rmse}


def baselines(rows: ServeRows, train: Array) -> dict[str, Array]:
    wta = rows.features[:, _IDX["wta"]] > 0.5
    overall = float(rows.won[train].sum() / rows.played[train].sum())
    mean = {}
    for flag in (False, True):
        sel = train & (wta == flag)
        mean[flag] = float(rows.won[sel].sum() / rows.played[sel].sum()) if sel.any() else overall
    tour_mean = np.where(wta, mean[True], mean[False])
    combined = (
        rows.features[:, _IDX["server_serve_surface"]]
        - rows.features[:, _IDX["returner_return_surface"]]
        + (1.0 - tour_mean)
    )
    return {"tour_mean": tour_mean, "combination": np.clip(combined, 0.01, 0.99)}


def _nll(model: PriorMLP, x: torch.Tensor, won: torch.Tensor, played: torch.Tensor) -> torch.Tensor:
    logits = model.logits(x)
    loss = played * torch.nn.functional.softplus(-logits) + (played - won) * logits
    return loss.sum() / played.sum()


def _predict(model: PriorMLP, x: Array) -> Array:
    model.eval()
    with torch.no_grad():
        out: Array = model(torch.from_numpy(x)).numpy()
    return out


def fit_prior(rows: ServeRows, config: PriorConfig) -> PriorResult:
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    train = rows.year <= config.train_until
    val = rows.year == config.train_until + 1
    test = rows.year > config.train_until + 1
    if not (train.any() and val.any()):
        raise ValueError("results: need training years and the validation year after them")
    x = torch.from_numpy(rows.features)
    won = torch.from_numpy(rows.won)
    played = torch.from_numpy(rows.played)
    model = PriorMLP(hidden=config.hidden)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    rng = np.random.default_rng(config.seed)
    train_idx = np.nonzero(train)[0]
    val_idx = torch.from_numpy(np.nonzero(val)[0])
    best, best_epoch, best_state = math.inf, 0, copy.deepcopy(model.state_dict())
    started = time.perf_counter()
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        order = rng.permutation(train_idx)
        for start in range(0, len(order), config.batch_size):
            idx = torch.from_numpy(order[start : start + config.batch_size])
            loss = _nll(model, x[idx], won[idx], played[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
        model.eval()
        with torch.no_grad():
            val_loss = float(_nll(model, x[val_idx], won[val_idx], played[val_idx]))
        log.info("prior_epoch", epoch=epoch, val_log_loss=val_loss)
        if val_loss < best:
            best, best_epoch, best_state = val_loss, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    p = _predict(model, rows.features)
    base = baselines(rows, train)
    metrics: dict[str, float] = {}
    for split, sel in (("val", val), ("test", test)):
        if not sel.any():
            continue
        metrics[f"{split}_rows"] = float(sel.sum())
        for name, pred in (("mlp", p), *base.items()):
            for key, value in point_metrics(pred[sel], rows.won[sel], rows.played[sel]).items():
                metrics[f"{split}_{name}_{key}"] = value
    return PriorResult(model, metrics, best_epoch, time.perf_counter() - started)
