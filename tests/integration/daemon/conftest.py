"""Tiny GRU emulators (full and lite) exported once per session for the daemon tests."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.export import export_untrained_pair

    out = tmp_path_factory.mktemp("daemon-models")
    export_untrained_pair(out, "gru", seed=13, torch_seed=9, embed=8, hidden=16)
    return out
