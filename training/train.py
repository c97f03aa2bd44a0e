"""Training loop on tensors: AdamW (weight decay 1e-5), early stopping on validation price RMSE
(patience 5), best-epoch weights restored, deterministic for a given seed on CPU."""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from engine.logs import get_logger
from training.losses import DISTRESS_WEIGHT, emulator_loss
from training.metrics import emulator_metrics
from training.models import Emulator, build_model
from training.tensors import SPLIT_TRAIN, SPLIT_VAL, TensorSet

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    model: str = "gru"
    sizes: dict[str, Any] = field(default_factory=dict)  # architecture overrides (tests only)
    max_epochs: int = 50
    patience: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-5
    grad_clip: float = 1.0
    nll_weight: float = 1.0
    distress_weight: float = DISTRESS_WEIGHT
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        for key in ("max_epochs", "patience", "batch_size", "threads"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}: must be >= 1")
        if not (self.lr > 0 and self.weight_decay >= 0):
            raise ValueError("lr/weight_decay: must be positive / non-negative")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class TrainResult:
    model: Emulator
    best_epoch: int
    epochs_run: int
    val_metrics: dict[str, float]
    history: list[dict[str, float]]
    seconds: float


def seed_everything(seed: int, threads: int) -> None:
    """Same seed, same CPU thread count → same weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def _batch_tensors(t: TensorSet, idx: np.ndarray[Any, Any]) -> dict[str, torch.Tensor]:
    # trim padding shared by the whole batch: less work for the Transformer
    longest = max(int(t.mask[idx].sum(axis=1).max()), 1)
    return {
        "static": torch.from_numpy(t.static[idx]),
        "seq": torch.from_numpy(t.seq[idx, :longest]),
        "y": torch.from_numpy(t.y[idx, :longest]),
        "mask": torch.from_numpy(t.mask[idx, :longest]),
        "distress": torch.from_numpy(t.distress[idx, :longest]),
        "pts_since_mto": torch.from_numpy(t.pts_since_mto[idx, :longest]),
    }


def predict(
    model: Emulator, t: TensorSet, batch_size: int = 64
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(price, distress probability), each (N, T), in eval mode."""
    model.eval()
    price = np.zeros(t.y.shape, dtype=np.float32)
    distress = np.zeros(t.y.shape, dtype=np.float32)
    with torch.no_grad():
        for start in range(0, t.static.shape[0], batch_size):
            idx = np.arange(start, min(start + batch_size, t.static.shape[0]))
            b = _batch_tensors(t, idx)
            p, _, d = model(b["static"], b["seq"])
            width = p.shape[1]
            price[idx, :width] = p.numpy()
            distress[idx, :width] = torch.sigmoid(d).numpy()
    return price, distress


def evaluate(model: Emulator, t: TensorSet) -> dict[str, float]:
    price, distress = predict(model, t)
    return emulator_metrics(
        price,
        distress,
        y=t.y,
        distress=t.distress,
        mask=t.mask,
        pts_since_mto=t.pts_since_mto,
    )


def train(data: TensorSet, config: TrainConfig) -> TrainResult:
    """Train on split 0, early-stop on split 1's price RMSE; returns the best epoch's model."""
    train_set, val_set = data.subset(SPLIT_TRAIN), data.subset(SPLIT_VAL)
    if train_set.static.shape[0] == 0 or val_set.static.shape[0] == 0:
        raise ValueError("tensors.split: need at least one training and one validation match")
    seed_everything(config.seed, config.threads)
    model = build_model(config.model, **config.sizes)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    rng = np.random.default_rng(config.seed)
    best_rmse, best_epoch, best_state = math.inf, 0, copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    epoch = 0
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        order = rng.permutation(train_set.static.shape[0])
        total, batches = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            b = _batch_tensors(train_set, order[start : start + config.batch_size])
            price, logvar, distress_logit = model(b["static"], b["seq"])
            parts = emulator_loss(
                price,
                logvar,
                distress_logit,
                y=b["y"],
                distress=b["distress"],
                mask=b["mask"],
                pts_since_mto=b["pts_since_mto"],
                nll_weight=config.nll_weight,
                distress_weight=config.distress_weight,
            )
            optimiser.zero_grad(set_to_none=True)
            parts.total.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            total += float(parts.total.detach())
            batches += 1
        metrics = evaluate(model, val_set)
        val_rmse = metrics.get("rmse_ppt", math.inf)
        history.append({"epoch": float(epoch), "train_loss": total / batches, **metrics})
        log.info("epoch", epoch=epoch, train_loss=total / batches, val_rmse_ppt=val_rmse)
        if val_rmse < best_rmse:
            best_rmse, best_epoch = val_rmse, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(
        model=model,
        best_epoch=best_epoch,
        epochs_run=epoch,
        val_metrics=evaluate(model, val_set),
        history=history,
        seconds=time.perf_counter() - started,
    )
