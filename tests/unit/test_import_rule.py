"""DESIGN.md §2: imports flow one way. `engine` never imports adapters, strategies, replay or
training; the daemon side never imports training."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _violations(package: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_top_levels(path) & forbidden
        if bad:
            found.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    return found


def test_engine_imports_no_outer_package():
    assert _violations("engine", {"adapters", "strategies", "replay", "training"}) == []


def test_daemon_side_never_imports_training():
    for package in ("adapters", "strategies", "replay"):
        assert _violations(package, {"training"}) == []
