"""Checkpoint + tensors -> exported model: picks the validation matches parity runs over."""

from __future__ import annotations

from pathlib import Path

from engine.models.metadata import ModelMetadata
from training.checkpoint import Checkpoint
from training.export import ExportSpec, export_model
from training.tensors import SPLIT_VAL, TensorSet


def export_checkpoint(
    ckpt: Checkpoint,
    data: TensorSet,
    out_dir: Path,
    name: str,
    *,
    parity_matches: int = 8,
    tolerance: float = 1e-5,
) -> tuple[Path, ModelMetadata]:
    """Export with parity over up to `parity_matches` whole validation matches."""
    val = data.subset(SPLIT_VAL)
    if val.static.shape[0] == 0:
        raise ValueError("tensors.split: no validation matches to run the parity check on")
    keep = slice(0, parity_matches)
    spec = ExportSpec(
        variant=ckpt.variant,
        data_hash=ckpt.data_hash,
        metrics=ckpt.val_metrics,
        training=ckpt.training,
    )
    return export_model(
        ckpt.model,
        out_dir,
        name,
        spec,
        parity_static=val.static[keep],
        parity_seq=val.seq[keep],
        parity_lengths=val.lengths[keep],
        tolerance=tolerance,
    )
