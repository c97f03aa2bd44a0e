"""Export the prior MLP to ONNX (dynamic batch) with metadata, after an ORT-vs-torch parity
check."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.features.prior_schema import PRIOR_DIM, PRIOR_SCHEMA_HASH, PRIOR_SCHEMA_VERSION
from engine.models.metadata import METADATA_SUFFIX, PRIOR_KIND, PRIOR_VARIANT, ModelMetadata
from engine.models.prior import PriorRunner
from training.export import OPSET
from training.parity import ParityError
from training.prior.model import PriorMLP


def export_prior(
    model: PriorMLP,
    out_dir: Path,
    name: str,
    *,
    parity_features: np.ndarray[Any, np.dtype[np.float32]],
    data_hash: str,
    metrics: dict[str, float],
    training: dict[str, Any],
    tolerance: float = 1e-5,
) -> tuple[Path, ModelMetadata]:
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    metadata = ModelMetadata(
        name=name,
        architecture={"kind": PRIOR_KIND, "inputs": PRIOR_DIM, "hidden": list(model.hidden)},
        variant=PRIOR_VARIANT,
        schema_version=PRIOR_SCHEMA_VERSION,
        schema_hash=PRIOR_SCHEMA_HASH,
        data_hash=data_hash,
        metrics=dict(metrics),
        parity_max_abs_diff=0.0,
        created_utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        opset=OPSET,
        onnx_file=onnx_path.name,
        training=dict(training),
    )
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tmp_path = Path(tmp) / onnx_path.name
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
            warnings.filterwarnings("ignore", message=".*feature will be removed.*")
            torch.onnx.export(
                model,
                (torch.zeros(2, PRIOR_DIM),),
                str(tmp_path),
                input_names=["features"],
                output_names=["p"],
                dynamic_axes={"features": {0: "n"}, "p": {0: "n"}},
                opset_version=OPSET,
                dynamo=False,
            )
            reference = model(torch.from_numpy(parity_features)).numpy()
        got = PriorRunner(tmp_path, metadata).predict(parity_features)
        worst = float(np.max(np.abs(got - reference))) if len(reference) else 0.0
        if not worst <= tolerance:
            raise ParityError(f"parity: ONNX Runtime differs from PyTorch by {worst:.3g}")
        os.replace(tmp_path, onnx_path)
    metadata = ModelMetadata(**{**metadata.to_dict(), "parity_max_abs_diff": worst})
    meta_path = out_dir / f"{name}{METADATA_SUFFIX}"
    meta_path.write_text(json.dumps(metadata.to_dict(), indent=2, sort_keys=True) + "\n")
    return onnx_path, metadata
