"""Runner for the learned serve-point prior: pre-match features -> P(server wins a point).

Not on the per-event hot path (once per match), so a plain session.run over a batch.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from engine.features.prior_schema import PRIOR_DIM
from engine.models.metadata import PRIOR_KIND, ModelMetadata, load_metadata


class PriorRunner:
    def __init__(self, onnx_path: Path, metadata: ModelMetadata) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.metadata = metadata
        self.session = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        names = [i.name for i in self.session.get_inputs()]
        if names != ["features"]:
            raise ValueError(f"model {onnx_path.name}: inputs {names} are not a prior graph")

    def predict(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """features (N, PRIOR_DIM) in PRIOR_FEATURES order -> (N,) serve-point probabilities."""
        x = np.ascontiguousarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != PRIOR_DIM:
            raise ValueError(f"features: expected (N, {PRIOR_DIM}), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("features: non-finite values")
        out: npt.NDArray[np.float32] = self.session.run(["p"], {"features": x})[0]
        return out


def load_prior(onnx_path: Path) -> PriorRunner:
    """Load NAME.onnx + NAME.json; refuses a non-prior model or another prior feature schema."""
    if not onnx_path.is_file():
        raise FileNotFoundError(f"model file not found: {onnx_path}")
    metadata = load_metadata(onnx_path)
    if metadata.kind != PRIOR_KIND:
        raise ValueError(f"model {onnx_path.name}: a {metadata.kind} model, not a prior")
    metadata.check_schema()
    return PriorRunner(onnx_path, metadata)


_TRAIN_UNTIL_FLAG = re.compile(r"--train-until[ =](\d{4})")


def prior_train_until(metadata: ModelMetadata) -> int:
    """Last training year of a prior: `training.train_until`, or the `--train-until` of the
    recorded command (priors exported before the key existed)."""
    value = metadata.training.get("train_until")
    if isinstance(value, int):
        return value
    found = _TRAIN_UNTIL_FLAG.search(str(metadata.training.get("command", "")))
    if found is None:
        raise ValueError(f"model {metadata.name}: metadata does not say its training years")
    return int(found.group(1))


def prior_tour_serve(metadata: ModelMetadata) -> dict[str, float] | None:
    """The tour serve-point means the prior's features were shrunk to, when recorded."""
    value = metadata.training.get("tour_serve")
    if not isinstance(value, dict):
        return None
    return {str(tour): float(mean) for tour, mean in value.items()}
