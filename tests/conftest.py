"""Shared fixtures. Real data lives in ../shared/data (never copied into the repo)."""

from pathlib import Path

import pytest
import structlog

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


@pytest.fixture(autouse=True)
def _reset_structlog() -> None:
    """`engine.cli.main()` binds structlog to the current stderr, which pytest closes after each
    test; start every test from the defaults so a later log line never hits a closed file."""
    structlog.reset_defaults()
