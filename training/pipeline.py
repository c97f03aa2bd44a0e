"""One-command retrain: corpus → aligned Parquet → tensors → four emulators (GRU/Transformer ×
full/lite) and the serve-point prior, each trained, exported to ONNX and parity-checked.

Every model is trained by the ordinary `courtside train … --export-to OUT` command (run as a
child process, `jobs` at a time, one torch thread each), so the shipped metadata records a
command a user can rerun on its own, and the pipeline adds no second training code path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from engine.features.schema import VARIANTS
from engine.logs import get_logger
from training.align import align_corpus
from training.tensorise import VARIANT_FILES, tensorise

log = get_logger(__name__)

EMULATORS: Final = ("gru", "transformer")


@dataclass(frozen=True, slots=True)
class RetrainPlan:
    corpus: Path
    out: Path  # where the ONNX models + metadata go (e.g. models_onnx)
    work: Path  # aligned Parquet, tensors, checkpoints
    results: Path | None = None  # tour-level results for the prior; None: no prior
    models: tuple[str, ...] = EMULATORS
    variants: tuple[str, ...] = VARIANTS
    matches: int | None = None  # first N corpus matches (by id)
    epochs: int = 50
    transformer_epochs: int | None = None  # None: same as epochs (the Transformer is slower)
    patience: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    jobs: int = 2
    align_workers: int = 2
    prior_epochs: int | None = None

    def __post_init__(self) -> None:
        for model in self.models:
            if model not in EMULATORS:
                raise ValueError(f"--models: unknown model {model!r}, expected {list(EMULATORS)}")
        for variant in self.variants:
            if variant not in VARIANTS:
                raise ValueError(f"--variants: unknown variant {variant!r}")
        if not self.lr > 0:
            raise ValueError(f"--lr: must be > 0, got {self.lr!r}")
        if self.transformer_epochs is not None and self.transformer_epochs < 1:
            raise ValueError("--transformer-epochs: must be >= 1")
        for key in ("epochs", "patience", "batch_size", "jobs", "align_workers"):
            if getattr(self, key) < 1:
                raise ValueError(f"--{key.replace('_', '-')}: must be >= 1")


@dataclass(slots=True)
class RetrainReport:
    seconds: dict[str, float] = field(default_factory=dict)
    align: dict[str, Any] = field(default_factory=dict)
    tensorise: dict[str, Any] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "align": self.align,
            "tensorise": self.tensorise,
            "models": self.models,
        }


def train_command(plan: RetrainPlan, model: str, variant: str) -> list[str]:
    """The `courtside train` command line of one emulator."""
    data = plan.work / "tensors" / VARIANT_FILES[variant]
    epochs = plan.epochs
    if model == "transformer" and plan.transformer_epochs is not None:
        epochs = plan.transformer_epochs
    return [
        "train",
        "--model",
        model,
        "--variant",
        variant,
        "--data",
        str(data),
        "--out",
        str(plan.work / "checkpoints"),
        "--epochs",
        str(epochs),
        "--patience",
        str(plan.patience),
        "--batch-size",
        str(plan.batch_size),
        "--lr",
        str(plan.lr),
        "--seed",
        str(plan.seed),
        "--threads",
        "1",
        "--export-to",
        str(plan.out),
    ]


def prior_command(plan: RetrainPlan) -> list[str]:
    assert plan.results is not None
    command = [
        "train",
        "--model",
        "prior",
        "--data",
        str(plan.results),
        "--out",
        str(plan.work / "checkpoints"),
        "--seed",
        str(plan.seed),
        "--threads",
        "1",
        "--export-to",
        str(plan.out),
    ]
    if plan.prior_epochs is not None:
        command += ["--epochs", str(plan.prior_epochs)]
    return command


def _run_courtside(name: str, args: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """Run `courtside ARGS` in a child process; its one JSON summary line is the result."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{name}: courtside {' '.join(args[:5])} … failed: {tail}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["command"] = "courtside " + " ".join(args)
    return name, summary


def retrain(plan: RetrainPlan) -> RetrainReport:
    """Run the whole pipeline; raises on the first failing step."""
    report = RetrainReport()
    t0 = time.perf_counter()
    aligned = plan.work / "aligned.parquet"
    align = align_corpus(plan.corpus, aligned, workers=plan.align_workers, limit=plan.matches)
    report.align = {
        "matches": align.matches,
        "rows": align.rows,
        "skipped": len(align.skipped),
        "carried_labels": align.carried_labels,
    }
    t1 = time.perf_counter()
    tens = tensorise(aligned, plan.work / "tensors", variants=VARIANTS, seed=plan.seed)
    report.tensorise = {
        "matches": tens.matches,
        "dropped_for_disjoint_players": tens.dropped_for_disjoint_players,
        "split_counts": {str(k): v for k, v in tens.split_counts.items()},
    }
    t2 = time.perf_counter()
    jobs: list[tuple[str, list[str]]] = [
        (f"{model}_{variant}", train_command(plan, model, variant))
        for model in plan.models
        for variant in plan.variants
    ]
    if plan.results is not None:
        jobs.insert(0, ("prior", prior_command(plan)))
    plan.out.mkdir(parents=True, exist_ok=True)
    # longest first (the Transformers), so the two workers finish together
    jobs.sort(key=lambda job: ("transformer" not in job[0], job[0]))
    with ThreadPoolExecutor(max_workers=plan.jobs) as pool:
        for name, summary in pool.map(lambda job: _run_courtside(*job), jobs):
            report.models[name] = summary
            log.info("model trained", model=name, seconds=summary["seconds"])
    t3 = time.perf_counter()
    report.seconds = {
        "align": round(t1 - t0, 1),
        "tensorise": round(t2 - t1, 1),
        "train_export": round(t3 - t2, 1),
        "total": round(t3 - t0, 1),
    }
    return report
