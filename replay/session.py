"""A whole replay run: tasks → executor → merged run files → report.

Run folder::

    run.json        what was replayed and how (task ids in order, options; no times)
    results.json    every task's result.json, in task order (deterministic)
    run_stats.json  wall time and events/s (the only file that differs between identical runs)
    metrics.prom    (with --metrics-file) the run's merged Prometheus textfile
    report.json, report.html
    tasks/<task_id>/...  see replay.runner
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from replay.executors import ExecutorName, Progress, run_tasks
from replay.metrics_merge import write_merged
from replay.report.build import build_report
from replay.runner import ReplayOptions, ReplayTask

_OPTS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything a run needs besides its tasks."""

    options: ReplayOptions
    workers: int = 1
    executor: ExecutorName = "process"
    metrics_file: str | None = None
    html: bool = True


def run_replay(
    tasks: list[ReplayTask], spec: RunSpec, progress: Progress | None = None
) -> dict[str, Any]:
    """Replay `tasks`, write the run files and the report; returns the report's summary plus
    the run's throughput."""
    out = Path(spec.options.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "task_ids": [t.task_id for t in tasks],
        "tasks": [
            {
                "task_id": t.task_id,
                "market_files": list(t.market_files),
                "tick_files": list(t.tick_files),
                "match_file": t.match_file,
            }
            for t in tasks
        ],
        "config": spec.options.config_path,
        "shadow": spec.options.shadow,
    }
    (out / "run.json").write_bytes(orjson.dumps(manifest, option=_OPTS) + b"\n")
    started = time.perf_counter()
    results = run_tasks(
        tasks, spec.options, workers=spec.workers, executor=spec.executor, progress=progress
    )
    wall = time.perf_counter() - started
    (out / "results.json").write_bytes(
        orjson.dumps([r.result for r in results], option=_OPTS) + b"\n"
    )
    events = sum(r.events for r in results)
    stats = {
        "executor": spec.executor,
        "workers": spec.workers,
        "tasks": len(tasks),
        "events": events,
        "wall_s": round(wall, 3),
        "events_per_s": round(events / wall, 1) if wall > 0 else None,
        "task_wall_s": {r.task_id: round(r.wall_s, 3) for r in results},
    }
    (out / "run_stats.json").write_bytes(orjson.dumps(stats, option=_OPTS) + b"\n")
    if spec.metrics_file is not None:
        target = Path(spec.metrics_file)
        write_merged((out / "tasks" / t.task_id / "metrics.prom" for t in tasks), target)
    report = build_report(out, html=spec.html)
    return {"out": str(out), "run": stats, "summary": report["summary"]}
