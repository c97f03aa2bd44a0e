"""Optuna search over the emulator's training hyper-parameters (blueprint §9), small by default.

The architecture stays the DESIGN.md §5 one (plus any test-size overrides passed in); the search
covers learning rate, weight decay, batch size and dropout, scoring each trial by its validation
price RMSE after early stopping. TPE sampler with a fixed seed: the same data and budget give the
same trials.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import optuna

from engine.logs import get_logger
from training.tensors import TensorSet
from training.train import TrainConfig, train

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    best_config: TrainConfig
    best_rmse_ppt: float
    trials: list[dict[str, Any]]


def suggest(trial: optuna.Trial, base: TrainConfig) -> TrainConfig:
    sizes = {**base.sizes, "dropout": trial.suggest_float("dropout", 0.0, 0.4)}
    return replace(
        base,
        lr=trial.suggest_float("lr", 1e-4, 3e-3, log=True),
        weight_decay=trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        batch_size=trial.suggest_categorical("batch_size", [16, 32, 64]),
        sizes=sizes,
    )


def sweep(data: TensorSet, base: TrainConfig, trials: int = 8) -> SweepResult:
    """Run `trials` trainings; returns the best configuration and every trial's record."""
    if trials < 1:
        raise ValueError("trials: must be >= 1")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=base.seed)
    )
    configs: dict[int, TrainConfig] = {}

    def objective(trial: optuna.Trial) -> float:
        config = suggest(trial, base)
        configs[trial.number] = config
        rmse = train(data, config).val_metrics.get("rmse_ppt", float("inf"))
        log.info("sweep_trial", trial=trial.number, rmse_ppt=rmse, **trial.params)
        return float(rmse)

    study.optimize(objective, n_trials=trials)
    records = [{"trial": t.number, "rmse_ppt": t.value, **t.params} for t in study.trials]
    best = study.best_trial
    return SweepResult(configs[best.number], float(best.value or 0.0), records)
