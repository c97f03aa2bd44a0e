"""`--executor ray` runs the same task as the process executor and gives the same bytes.

Ray is the optional `cluster` extra, which CI installs: the first test starts a local Ray instance
(two CPUs) and compares its outputs with an in-process run of the same matches. The second hides
ray from the import system: the executor must then refuse with the install hint instead of failing
somewhere inside a worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from replay.executors import run_tasks
from replay.runner import ReplayOptions
from replay.tasks import discover_tasks

pytestmark = pytest.mark.slow

MATCHES = ("2013-wimbledon-2404", "2013-wimbledon-1401")
COMPARED = ("result.json", "predictions.jsonl", "gate.jsonl", "orders.jsonl")


def test_ray_executor_matches_the_process_executor(repo_root: Path, tmp_path: Path) -> None:
    tasks = discover_tasks([repo_root / "data" / "sample" / m for m in MATCHES])

    on_ray = run_tasks(tasks, ReplayOptions(str(tmp_path / "ray")), workers=2, executor="ray")
    here = run_tasks(tasks, ReplayOptions(str(tmp_path / "here")), workers=1)

    assert [r.task_id for r in on_ray] == list(MATCHES)
    assert [r.result for r in on_ray] == [r.result for r in here]
    for match in MATCHES:
        for name in COMPARED:
            ray_bytes = (tmp_path / "ray" / "tasks" / match / name).read_bytes()
            here_bytes = (tmp_path / "here" / "tasks" / match / name).read_bytes()
            assert ray_bytes == here_bytes, f"{match}/{name}"


def test_ray_executor_without_ray_names_the_extra(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = discover_tasks([repo_root / "data" / "sample" / MATCHES[0]])
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError

    with pytest.raises(ValueError, match="courtside\\[cluster\\]"):
        run_tasks(tasks, ReplayOptions(str(tmp_path / "ray")), workers=2, executor="ray")
