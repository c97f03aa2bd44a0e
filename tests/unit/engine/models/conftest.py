"""Tiny emulators exported once per session (the runner is tested against real ONNX graphs)."""

from pathlib import Path

import numpy as np
import pytest
import structlog

TINY = {
    "gru": {"embed": 8, "hidden": 16},
    "transformer": {"d_model": 16, "heads": 2, "layers": 2, "ff": 32},
}


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> dict[str, Path]:
    import torch

    from training.export import ExportSpec, export_model
    from training.models import build_model

    out = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(7)
    paths = {}
    for kind, sizes in TINY.items():
        torch.manual_seed(3)
        model = build_model(kind, **sizes)
        static = rng.normal(size=(2, 7)).astype(np.float32)
        seq = rng.normal(size=(2, 12, model.config.token_dim)).astype(np.float32)
        spec = ExportSpec(
            variant="full", data_hash="0" * 64, metrics={"rmse_ppt": 1.0}, training={}
        )
        paths[kind], _ = export_model(
            model, out, f"{kind}_tiny", spec, parity_static=static, parity_seq=seq
        )
    return paths


@pytest.fixture(autouse=True)
def _reset_structlog():
    """main() points structlog at pytest's captured stderr; undo that after each test."""
    yield
    structlog.reset_defaults()
