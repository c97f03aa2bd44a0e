"""Where replay tasks run: in this process, in a process pool, or on a Ray cluster.

Every executor runs the same `run_task` on the same `ReplayTask`s and returns the results in task
order, whatever order they finished in, so the merged run output does not depend on the executor
or the number of workers. Each task writes only to its own folder. Progress (events replayed) is
reported through a callback: directly in-process, through a shared counter from pool workers, and
per finished task from Ray (its workers cannot reach this process's memory).
"""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

from engine.logs import get_logger
from replay.runner import ReplayOptions, ReplayTask, TaskResult, run_task

_log = get_logger("replay.executors")

ExecutorName = Literal["process", "ray"]
Progress = Callable[[int, int], None]  # (events since last call, tasks finished so far)

_POLL_S = 0.25
_worker: dict[str, Any] = {}  # a pool worker's shared event counter (set by the initializer)


def _init_worker(counter: Any) -> None:
    _worker["counter"] = counter


def _count_events(n: int) -> None:
    counter = _worker.get("counter")
    if counter is not None:
        with counter.get_lock():
            counter.value += n


def _pool_task(task: ReplayTask, options: ReplayOptions) -> TaskResult:
    return run_task(task, options, _count_events)


def run_in_process(
    tasks: Sequence[ReplayTask], options: ReplayOptions, progress: Progress | None = None
) -> list[TaskResult]:
    """One task after another in this process (workers = 1: no pickling, no start-up cost)."""
    results: list[TaskResult] = []

    def events(n: int) -> None:
        if progress is not None:
            progress(n, len(results))

    for task in tasks:
        results.append(run_task(task, options, events))
        events(0)
    return results


def run_in_pool(
    tasks: Sequence[ReplayTask],
    options: ReplayOptions,
    workers: int,
    progress: Progress | None = None,
) -> list[TaskResult]:
    """A pool of `workers` processes (spawned: no inherited threads or ONNX sessions)."""
    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    by_id: dict[str, TaskResult] = {}
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(counter,)
    ) as pool:
        pending: set[Future[TaskResult]] = {pool.submit(_pool_task, t, options) for t in tasks}
        reported = 0
        while pending:
            done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                by_id[result.task_id] = result
            if progress is not None:
                with counter.get_lock():
                    total = int(counter.value)
                progress(total - reported, len(by_id))
                reported = total
    return [by_id[t.task_id] for t in tasks]


def run_on_ray(
    tasks: Sequence[ReplayTask],
    options: ReplayOptions,
    workers: int,
    progress: Progress | None = None,
    address: str | None = None,
) -> list[TaskResult]:
    """The same task on Ray (`pip install courtside[cluster]`). `address` None starts a local
    instance with `workers` CPUs (or joins the cluster named by RAY_ADDRESS); the output folder
    must be on storage every node can write (it is a path, not an upload)."""
    try:  # imported by name: ray is an optional extra, absent where type checks run
        ray: Any = importlib.import_module("ray")
    except ImportError:
        raise ValueError(
            "executor: ray is not installed (pip install 'courtside[cluster]')"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    # workers may not share this process's working directory: hand them absolute paths
    options = dataclasses.replace(
        options,
        out_dir=str(Path(options.out_dir).resolve()),
        config_path=str(Path(options.config_path).resolve()) if options.config_path else None,
    )
    try:
        remote = ray.remote(num_cpus=1)(run_task)
        refs = [remote.remote(task, options) for task in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[TaskResult | None] = [None] * len(refs)
        waiting = list(refs)
        finished = 0
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            for ref in done:
                result: TaskResult = ray.get(ref)
                results[index[ref]] = result
                finished += 1
                if progress is not None:
                    progress(result.events, finished)
        return [r for r in results if r is not None]
    finally:
        if started_here:
            ray.shutdown()


def run_tasks(
    tasks: Sequence[ReplayTask],
    options: ReplayOptions,
    *,
    workers: int = 1,
    executor: ExecutorName = "process",
    progress: Progress | None = None,
    ray_address: str | None = None,
) -> list[TaskResult]:
    """Run every task; results in task order. workers = 1 with the process executor runs here."""
    if workers < 1:
        raise ValueError(f"workers: must be at least 1, got {workers}")
    if len({t.task_id for t in tasks}) != len(tasks):
        raise ValueError("tasks: task ids must be unique")
    started = time.perf_counter()
    if executor == "ray":
        results = run_on_ray(tasks, options, workers, progress, ray_address)
    elif executor == "process":
        if workers == 1 or len(tasks) <= 1:
            results = run_in_process(tasks, options, progress)
        else:
            results = run_in_pool(tasks, options, min(workers, len(tasks)), progress)
    else:
        raise ValueError(f"executor: {executor!r} is not process or ray")
    _log.info(
        "replay_tasks_done",
        executor=executor,
        workers=workers,
        tasks=len(tasks),
        wall_s=round(time.perf_counter() - started, 3),
    )
    return results
