"""Trained-model checkpoints (NAME.pt): weights plus everything export needs to write metadata.

Saved as plain tensors, numbers and strings so that `torch.load(weights_only=True)` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import torch

from engine.features.schema import SCHEMA_HASH, SCHEMA_VERSION
from training.models import HEAD_KIND, Emulator, build_model, model_config

CHECKPOINT_FORMAT: Final = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    model: Emulator
    variant: str
    data_hash: str
    val_metrics: dict[str, float]
    training: dict[str, Any]


def save_checkpoint(path: Path, ckpt: Checkpoint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "state_dict": ckpt.model.state_dict(),
            "architecture": model_config(ckpt.model),
            "variant": ckpt.variant,
            "schema_hash": SCHEMA_HASH,
            "schema_version": SCHEMA_VERSION,
            "data_hash": ckpt.data_hash,
            "val_metrics": ckpt.val_metrics,
            "training": ckpt.training,
        },
        path,
    )


def load_checkpoint(path: Path) -> Checkpoint:
    """Rebuild the model; refuses another checkpoint format or feature schema."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(raw, dict) or raw.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint: {path.name} is not a courtside checkpoint")
    if raw["schema_hash"] != SCHEMA_HASH:
        raise ValueError(
            f"checkpoint.schema_hash: {path.name} was trained on feature schema "
            f"{raw['schema_hash'][:12]}…, the current one is {SCHEMA_HASH[:12]}…; retrain"
        )
    architecture = dict(raw["architecture"])
    kind = architecture.pop("kind")
    head = architecture.pop("head", None)
    if head != HEAD_KIND:
        raise ValueError(
            f"checkpoint.architecture.head: {path.name} has a {head or 'pre-anchor'} price head, "
            f"this code builds {HEAD_KIND}; retrain"
        )
    model = build_model(kind, **architecture)
    model.load_state_dict(raw["state_dict"])
    model.eval()
    return Checkpoint(
        model=model,
        variant=str(raw["variant"]),
        data_hash=str(raw["data_hash"]),
        val_metrics={k: float(v) for k, v in raw["val_metrics"].items()},
        training=dict(raw["training"]),
    )
