"""Shared fixtures. Real data lives in ../shared/data (never copied into the repo)."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; a missing folder is an error, not a skip (CI always has it)."""
    if not (SHARED_DATA / "README.md").is_file():
        raise FileNotFoundError(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
