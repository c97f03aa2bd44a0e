"""From command-line paths to replay tasks (one per market, or per match with its score ticks).

Accepted, in any mix:

- a corpus day folder (``matches.jsonl`` + one folder per match): one task per listed match;
- a match folder (``match.json``, ``ticks.jsonl`` and the market's stream file ``1.<id>*``);
- a folder holding match folders (each one becomes a task);
- a Betfair historical stream file (plain/gz/bz2/xz): one market-only task — the engine follows
  the market but, with no score feed, never prices a point (the gate says ``no_score_feed``).

Task ids are the match ids (or the file names) and must be unique in a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import orjson

from replay.runner import ReplayTask

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _corpus_tasks(folder: Path) -> list[ReplayTask]:
    tasks = []
    for line_no, line in enumerate((folder / "matches.jsonl").read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            tasks.append(
                ReplayTask(
                    task_id=str(entry["match_id"]),
                    market_files=(str(folder / entry["stream"]),),
                    tick_files=(str(folder / entry["ticks"]),),
                    match_file=str(folder / entry["match"]),
                )
            )
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"paths: {folder}/matches.jsonl line {line_no}: {exc}") from None
    return tasks


def _match_task(folder: Path) -> ReplayTask:
    meta = orjson.loads((folder / "match.json").read_bytes())
    market_id = str(meta.get("market_id", ""))
    streams = sorted(folder.glob(f"{market_id}*")) if market_id else []
    if not streams:
        raise ValueError(f"paths: {folder} has no stream file for market {market_id!r}")
    ticks = folder / "ticks.jsonl"
    return ReplayTask(
        task_id=str(meta.get("match_id", folder.name)),
        market_files=(str(streams[0]),),
        tick_files=(str(ticks),) if ticks.is_file() else (),
        match_file=str(folder / "match.json"),
    )


def tasks_for_path(path: Path) -> list[ReplayTask]:
    """The tasks one command-line path stands for (see the module docstring)."""
    if path.is_file():
        return [ReplayTask(task_id=_UNSAFE.sub("_", path.name), market_files=(str(path),))]
    if not path.is_dir():
        raise FileNotFoundError(f"paths: {path} does not exist")
    if (path / "matches.jsonl").is_file():
        return _corpus_tasks(path)
    if (path / "match.json").is_file():
        return [_match_task(path)]
    found = [
        _match_task(child) for child in sorted(path.iterdir()) if (child / "match.json").is_file()
    ]
    if not found:
        raise ValueError(f"paths: {path} holds no corpus, match folder or stream file")
    return found


def discover_tasks(paths: Iterable[str | Path]) -> list[ReplayTask]:
    """All tasks of the given paths, in order; a repeated task id is an error."""
    tasks: list[ReplayTask] = []
    seen: set[str] = set()
    for raw in paths:
        for task in tasks_for_path(Path(raw)):
            if task.task_id in seen:
                raise ValueError(f"paths: task {task.task_id!r} appears twice")
            seen.add(task.task_id)
            tasks.append(task)
    if not tasks:
        raise ValueError("paths: nothing to replay")
    return tasks
