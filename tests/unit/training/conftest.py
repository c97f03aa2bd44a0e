"""Session-scoped synthetic tensors and tiny model sizes (torch import and training are slow)."""

import pytest
import structlog

from training.synthetic import make_synthetic_tensors

TINY = {
    "gru": {"embed": 8, "hidden": 16},
    "transformer": {"d_model": 16, "heads": 2, "layers": 2, "ff": 32},
}


@pytest.fixture(scope="session")
def synthetic():
    return make_synthetic_tensors(n_matches=40, max_points=30, seed=0)


@pytest.fixture(scope="session")
def tiny():
    return TINY


@pytest.fixture(autouse=True)
def _reset_structlog():
    """main() points structlog at pytest's captured stderr; undo that after each test."""
    yield
    structlog.reset_defaults()
