"""Tiny GRU emulators (full and lite) exported once per session for the daemon tests."""

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from training.export import ExportSpec, export_model
    from training.models import build_model

    out = tmp_path_factory.mktemp("daemon-models")
    rng = np.random.default_rng(13)
    for variant in ("full", "lite"):
        torch.manual_seed(9)
        model = build_model("gru", embed=8, hidden=16)
        static = rng.normal(size=(2, 7)).astype(np.float32)
        seq = rng.normal(size=(2, 6, model.config.token_dim)).astype(np.float32)
        spec = ExportSpec(variant=variant, data_hash="0" * 64, metrics={}, training={})
        export_model(model, out, f"gru_{variant}", spec, parity_static=static, parity_seq=seq)
    return out
