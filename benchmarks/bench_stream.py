"""Read + parse + cache throughput on recorded Betfair stream files, against peers in one run.

Implementations, each timed in its own fresh subprocess (so peak RSS is its own):

- ``courtside``: our historical reader (bzip2/xz decompressed by the system tool in a child
  process when installed, gzip in a helper thread) -> orjson decode -> StreamProcessor ->
  MarketCache; one MarketUpdate ("book") per market change.
- ``courtside+top3``: the same, plus reading the best 3 back and lay levels of every runner on
  every update (what a strategy consuming each book does; the fair comparison to peers that
  materialise a full book per update).
- ``bflw-lightweight``: betfairlightweight StreamListener(lightweight=True), a dict book per
  market change out of its output queue.
- ``read-only``: the floor every implementation pays: decompress the file and split it into
  lines with the stdlib, no parsing (books = 0).
- ``flumine``: FlumineSimulation with a trivial strategy that counts every market book it is
  offered (``check_market_book``) and never trades.

Everyone reads the same file (flumine through smart_open, the others through the stdlib
decompressors): the shared tennis (.bz2) and cricket (.gz) files, and the tennis file
decompressed once into the temp dir ("tennis-plain"), which shows parse + cache cost without
bzip2 decompression (the "read-only" row is that floor). messages/s = file lines / wall time;
books/s = books delivered / wall time; books/CPU-s = books / CPU time of the process (all
threads) and of its children (our decompression thread or child process counts), the steadier
figure on a shared machine.

Run it with the benchmark venv (benchmarks/setup_bench_venv.sh), which has flumine:

    /work/bench-venv/bin/python benchmarks/bench_stream.py --repeat 5

Output: a JSON document on stdout (``--table`` adds a markdown table on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT.parent / "shared" / "data" / "betfair" / "historical"
FILES = {
    "tennis": DATA / "tennis_wimbledon2018_1.145329255.bz2",
    "cricket": DATA / "cricket_MATCH_ODDS_inplay_1.200806927.gz",
    # The tennis file decompressed once into the temp dir: parse + cache without the bz2 floor.
    "tennis-plain": Path(tempfile.gettempdir()) / "courtside_bench" / "tennis_1.145329255.json",
}
_LINES: dict[Path, int] = {}
IMPLEMENTATIONS = ("read-only", "courtside", "courtside+top3", "bflw-lightweight", "flumine")


def _peak_rss_mib() -> float:
    """Peak RSS of this process. A bzip2 child adds about 5 MiB (``/usr/bin/time -v``); its
    RUSAGE_CHILDREN figure is not used because it counts the parent's pages copied at fork."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) plus its reaped children: a decompressor child
    process (courtside runs the system bzip2/xz when installed) is charged to its parent."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _open_any(path: Path) -> Any:
    from adapters.betfair.historical import open_stream_file

    return open_stream_file(path)


def run_read_only(path: Path) -> tuple[int, int]:
    with _open_any(path) as handle:
        return sum(1 for _ in handle), 0


def run_courtside(path: Path, top3: bool) -> tuple[int, int]:
    from adapters.betfair.historical import replay_market_updates
    from adapters.betfair.processor import StreamProcessor

    processor = StreamProcessor()
    books = 0
    if top3:
        for update in replay_market_updates(path, processor):
            for runner in update.book.runners.values():
                runner.back_levels(3)
                runner.lay_levels(3)
            books += 1
    else:
        for _update in replay_market_updates(path, processor):
            books += 1
    return processor.counters.messages, books


def run_bflw(path: Path) -> tuple[int, int]:
    import logging
    import queue

    from betfairlightweight.streaming.listener import StreamListener

    logging.disable(logging.CRITICAL)
    output: queue.Queue[list[Any]] = queue.Queue()
    listener = StreamListener(output_queue=output, max_latency=None, lightweight=True)
    listener.register_stream(0, "marketSubscription")
    on_data = listener.on_data
    messages = books = 0
    with _open_any(path) as handle:
        for line in handle:
            on_data(line)
            messages += 1
            while not output.empty():
                books += len(output.get_nowait())
    return messages, books


def run_flumine(path: Path) -> tuple[int, int]:
    import logging

    from flumine import BaseStrategy, FlumineSimulation, clients
    from flumine.streams.betfairhistoricalstream import BetfairHistoricalStream

    logging.disable(logging.CRITICAL)

    class CountBooks(BaseStrategy):  # type: ignore[misc]
        books = 0

        def check_market_book(self, market: Any, market_book: Any) -> bool:
            CountBooks.books += 1
            return False

        def process_market_book(self, market: Any, market_book: Any) -> None:
            return None

    framework = FlumineSimulation(client=clients.SimulatedClient())
    strategy = CountBooks(stream=BetfairHistoricalStream(file_path=str(path)))
    framework.add_strategy(strategy)
    framework.run()
    # flumine does not report lines read: every line of these files is one market change
    # (asserted by the parity tests), so messages == lines.
    return _LINES[path], CountBooks.books


def _import_peer(implementation: str) -> None:
    if implementation.startswith("courtside") or implementation == "read-only":
        import adapters.betfair.historical
        import adapters.betfair.processor  # noqa: F401
    elif implementation == "bflw-lightweight":
        import betfairlightweight.streaming.listener  # noqa: F401
    else:
        import flumine
        import flumine.streams.betfairhistoricalstream  # noqa: F401


def child(implementation: str, file_key: str) -> dict[str, Any]:
    """Measure one implementation on one file in this (fresh) process."""
    path = FILES[file_key]
    with _open_any(path) as handle:
        _LINES[path] = sum(1 for _ in handle)
    _import_peer(implementation)  # imports are not part of the measured time
    rss_before = _peak_rss_mib()
    cpu_start = _cpu_seconds()
    start = time.perf_counter()
    if implementation == "read-only":
        messages, books = run_read_only(path)
    elif implementation == "courtside":
        messages, books = run_courtside(path, top3=False)
    elif implementation == "courtside+top3":
        messages, books = run_courtside(path, top3=True)
    elif implementation == "bflw-lightweight":
        messages, books = run_bflw(path)
    elif implementation == "flumine":
        messages, books = run_flumine(path)
    else:
        raise ValueError(f"implementation: {implementation!r} unknown")
    seconds = time.perf_counter() - start
    cpu_seconds = _cpu_seconds() - cpu_start
    return {
        "implementation": implementation,
        "file": file_key,
        "seconds": seconds,
        "messages": messages,
        "books": books,
        "messages_per_s": messages / seconds,
        "books_per_s": books / seconds,
        "cpu_seconds": cpu_seconds,
        "books_per_cpu_s": books / cpu_seconds,
        "messages_per_cpu_s": messages / cpu_seconds,
        "peak_rss_mib": _peak_rss_mib(),
        "rss_before_mib": rss_before,
    }


def _run_child(implementation: str, file_key: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [sys.executable, __file__, "--child", implementation, file_key],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def _ensure_plain_copy() -> None:
    plain = FILES["tennis-plain"]
    if not plain.is_file():
        plain.parent.mkdir(parents=True, exist_ok=True)
        with _open_any(FILES["tennis"]) as source:
            plain.write_bytes(source.read())


def _machine() -> dict[str, str]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per implementation and file")
    parser.add_argument("--files", nargs="+", default=list(FILES), choices=list(FILES))
    parser.add_argument(
        "--implementations", nargs="+", default=list(IMPLEMENTATIONS), choices=IMPLEMENTATIONS
    )
    parser.add_argument("--table", action="store_true", help="markdown table on stderr")
    parser.add_argument(
        "--child", nargs=2, metavar=("IMPLEMENTATION", "FILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    _ensure_plain_copy()
    # Interleave implementations round by round: the machine is shared and noisy.
    results = [
        _run_child(implementation, file_key)
        for file_key in args.files
        for _round in range(args.repeat)
        for implementation in args.implementations
    ]

    summary = []
    for file_key in args.files:
        rows = {}
        for implementation in args.implementations:
            runs = [
                r
                for r in results
                if r["file"] == file_key and r["implementation"] == implementation
            ]
            rows[implementation] = {
                "messages": runs[0]["messages"],
                "books": runs[0]["books"],
                "median_seconds": statistics.median(r["seconds"] for r in runs),
                "messages_per_s": statistics.median(r["messages_per_s"] for r in runs),
                "books_per_s": statistics.median(r["books_per_s"] for r in runs),
                "books_per_cpu_s": statistics.median(r["books_per_cpu_s"] for r in runs),
                "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            }
        baseline = rows.get("flumine")
        for row in rows.values():
            if baseline:
                row["books_per_s_vs_flumine"] = row["books_per_s"] / baseline["books_per_s"]
                row["books_per_cpu_s_vs_flumine"] = (
                    row["books_per_cpu_s"] / baseline["books_per_cpu_s"]
                )
        summary.append({"file": file_key, "results": rows})

    report = {"machine": _machine(), "repeat": args.repeat, "summary": summary}
    print(json.dumps(report, indent=2))
    if args.table:
        _print_table(report)
    return 0


def _print_table(report: dict[str, Any]) -> None:
    lines = [
        "| file | implementation | messages | books | messages/s | books/s | × flumine "
        "| books/CPU-s | × flumine (CPU) | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in report["summary"]:
        for name, row in entry["results"].items():
            wall = row.get("books_per_s_vs_flumine")
            cpu = row.get("books_per_cpu_s_vs_flumine")
            lines.append(
                f"| {entry['file']} | {name} | {row['messages']:,} | {row['books']:,} "
                f"| {row['messages_per_s']:,.0f} | {row['books_per_s']:,.0f} "
                f"| {'' if wall is None else f'{wall:.2f}'} | {row['books_per_cpu_s']:,.0f} "
                f"| {'' if cpu is None else f'{cpu:.2f}'} | {row['peak_rss_mib']:.0f} |"
            )
    sys.stderr.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
