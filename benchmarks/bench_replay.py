"""Whole-engine replay throughput: `courtside replay` against flumine's backtester, same files.

courtside: the daemon's engine (market cache, score machine, physics, both ONNX emulators, trust
gate, divergence strategy, staking, risk, order manager with its SQLite journal, seeded simulated
exchange) driven by `replay.executors.run_tasks`, exactly as `courtside replay` drives it.
Throughput is messages (market-stream messages + score ticks) per wall second of the run,
start-up included (for --workers 2 that includes spawning the worker processes), and per task
(events / the task's own replay loop time).

flumine 3.3.2 (benchmark venv, benchmarks/setup_bench_venv.sh): `FlumineSimulation` over the same
stream files with the passive two-sided strategy of benchmarks/execution_flumine_peer.py (a book
callback per market change, orders on flumine's simulated exchange): flumine's own "strategy +
simulated execution" path. It has no score feed, physics or emulators, so it does less per
message; the ratio says what the whole pricing pipeline costs on top of a backtester loop.

Inputs: the shared real tennis market (Wimbledon 2018, no point-by-point exists for it, so
courtside follows the market, feeds the simulator and judges nothing: no points) and the bundled
corpus day data/sample (five matches with score ticks: the full pipeline, orders and fills).

Emulators: the repository engine.toml (the shipped GRU Emu-full/Emu-lite), or `--config FILE`;
`--tiny-emulators` instead exports two tiny GRU emulators
(torch, the train extra) into a temporary folder and opens the gate for them (as the integration
tests do), so that models, gate and simulated execution all run.

usage: python benchmarks/bench_replay.py [--config engine.toml | --tiny-emulators]
    [--flumine-python PY]
    [--log-level ERROR]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL_FILE = REPO.parent / "shared/data/betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
CORPUS_DAY = REPO / "data" / "sample"
DEFAULT_FLUMINE_PY = "/work/bench-venv/bin/python"


# ---------------------------------------------------------------- flumine side (bench venv)


def _count_lines(path: Path) -> int:
    import bz2
    import gzip

    opener: Any = bz2.open if path.suffix == ".bz2" else gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def flumine_peer(files: list[Path]) -> dict[str, Any]:
    """Run in the benchmark venv: the passive strategy over each file, timed here."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import flumine

    run = importlib.import_module("execution_flumine_peer").run

    messages = sum(_count_lines(p) for p in files)
    started = time.perf_counter()
    orders = 0
    for path in files:
        orders += int(run(path, available_prices=False)["orders"])
    wall = time.perf_counter() - started
    return {
        "implementation": f"flumine {flumine.__version__}",
        "messages": messages,
        "orders": orders,
        "wall_s": round(wall, 3),
        "messages_per_s": round(messages / wall, 1),
    }


def nautilus_peer(files: list[Path]) -> dict[str, Any]:
    """Run in the benchmark venv: each file parsed by NautilusTrader's Betfair adapter and run
    through its BacktestEngine (top-of-book book type L1_MBP, as its own Betfair backtest test
    uses: L2_MBP refuses the adapter's batched deltas) with its example OrderBookImbalance
    strategy on every runner; parsing is timed with the run (a replay must parse too)."""
    import bz2
    import gzip
    from decimal import Decimal

    def attr(module: str, name: str) -> Any:  # the peer is not installed where mypy runs
        return getattr(importlib.import_module(f"nautilus_trader.{module}"), name)

    version = importlib.import_module("nautilus_trader").__version__
    BETFAIR_VENUE = attr("adapters.betfair.constants", "BETFAIR_VENUE")
    BetfairParser = attr("adapters.betfair.parsing.core", "BetfairParser")
    iter_stream = attr("adapters.betfair.parsing.core", "iter_stream")
    BacktestEngine = attr("backtest.engine", "BacktestEngine")
    BacktestEngineConfig = attr("backtest.engine", "BacktestEngineConfig")
    LoggingConfig = attr("config", "LoggingConfig")
    OrderBookImbalance = attr("examples.strategies.orderbook_imbalance", "OrderBookImbalance")
    OrderBookImbalanceConfig = attr(
        "examples.strategies.orderbook_imbalance", "OrderBookImbalanceConfig"
    )
    GBP = attr("model.currencies", "GBP")
    enums = importlib.import_module("nautilus_trader.model.enums")
    ClientId = attr("model.identifiers", "ClientId")
    TraderId = attr("model.identifiers", "TraderId")
    BettingInstrument = attr("model.instruments", "BettingInstrument")
    Money = attr("model.objects", "Money")

    messages = 0
    fills = 0
    started = time.perf_counter()
    for path in files:
        opener: Any = bz2.open if path.suffix == ".bz2" else gzip.open
        parser = BetfairParser(currency="GBP")
        instruments: dict[Any, Any] = {}
        data: list[Any] = []
        with opener(path, "rb") as handle:
            for mcm in iter_stream(handle):
                messages += 1
                for item in parser.parse(mcm, min_notional=Money(1, GBP)):
                    if isinstance(item, BettingInstrument):
                        instruments[item.id] = item
                    else:
                        data.append(item)
        engine = BacktestEngine(
            config=BacktestEngineConfig(
                trader_id=TraderId("BENCH-001"), logging=LoggingConfig(bypass_logging=True)
            )
        )
        engine.add_venue(
            venue=BETFAIR_VENUE,
            oms_type=enums.OmsType.NETTING,
            account_type=enums.AccountType.CASH,
            base_currency=GBP,
            starting_balances=[Money(100_000, GBP)],
            book_type=enums.BookType.L1_MBP,
        )
        with_books = {
            getattr(item, "instrument_id", None)
            for item in data
            if type(item).__name__ == "OrderBookDeltas"
        }
        instruments = {k: v for k, v in instruments.items() if k in with_books}
        for instrument in instruments.values():
            engine.add_instrument(instrument)
        engine.add_data(data, client_id=ClientId("BETFAIR"))
        engine.add_strategies(
            [
                OrderBookImbalance(
                    config=OrderBookImbalanceConfig(
                        instrument_id=instrument.id,
                        max_trade_size=Decimal(10),
                        order_id_tag=str(instrument.selection_id),
                    )
                )
                for instrument in instruments.values()
            ]
        )
        engine.run()
        fills += len(engine.trader.generate_order_fills_report())
        engine.dispose()
    wall = time.perf_counter() - started
    return {
        "implementation": f"NautilusTrader {version}",
        "messages": messages,
        "fills": fills,
        "wall_s": round(wall, 3),
        "messages_per_s": round(messages / wall, 1),
    }


def run_peer(python: str, flag: str, files: list[Path]) -> dict[str, Any] | None:
    """One peer in the benchmark venv (None when that venv does not exist)."""
    if not Path(python).is_file():
        return None
    done = subprocess.run(
        [python, __file__, flag, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["failed"]
        return {"implementation": flag.removesuffix("-peer").lstrip("-"), "error": tail[0]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def nautilus_available(python: str) -> str | None:
    done = subprocess.run(
        [python, "-c", "import nautilus_trader; print(nautilus_trader.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


# ---------------------------------------------------------------- courtside side


def tiny_config(folder: Path) -> Path:
    """Two tiny GRU emulators and a gate that trusts them (see the module docstring)."""
    from training.export import export_untrained_pair

    models = folder / "models"
    export_untrained_pair(models, "gru", seed=11, torch_seed=5, embed=8, hidden=16)
    config = folder / "engine.toml"
    config.write_text(
        f'[core]\nmodels_dir = "{models}"\nemu_full = "gru_full.onnx"\nemu_lite = "gru_lite.onnx"\n'
        "[gate]\nemu_error_max = 1.0\ndistress_threshold = 1.0\nmin_edge = 0.001\n"
        "emu_min_points = 1\n",
        encoding="utf-8",
    )
    return config


def run_courtside(
    paths: list[Path], config: Path | None, workers: int, out: Path, log_level: str
) -> dict[str, Any]:
    from replay.executors import run_tasks
    from replay.runner import ReplayOptions
    from replay.tasks import discover_tasks

    tasks = discover_tasks(paths)
    started = time.perf_counter()
    options = ReplayOptions(str(out), str(config) if config else None, log_level=log_level)
    results = run_tasks(tasks, options, workers=workers)
    wall = time.perf_counter() - started
    events = sum(r.events for r in results)
    loop_s = sum(r.wall_s for r in results)
    orders = sum(int(r.result["orders"]["count"]) for r in results)
    points = sum(int(r.result["engine"]["points_priced"]) for r in results)
    return {
        "implementation": f"courtside replay --workers {workers}",
        "messages": events,
        "points_priced": points,
        "orders": orders,
        "wall_s": round(wall, 3),
        "messages_per_s": round(events / wall, 1),
        "messages_per_task_loop_s": round(events / loop_s, 1) if loop_s else None,
    }


def _machine() -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next(
        (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if "Model name" in ln), ""
    )
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--tiny-emulators", action="store_true")
    parser.add_argument("--flumine-python", default=DEFAULT_FLUMINE_PY)
    parser.add_argument(
        "--log-level",
        default="ERROR",
        help="courtside log level during the runs (default ERROR: an INFO line per order costs "
        "as much as the work it reports; the peers log nothing either)",
    )
    parser.add_argument("--flumine-peer", nargs="*", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--nautilus-peer", nargs="*", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.flumine_peer is not None:
        sys.stdout.write(json.dumps(flumine_peer([Path(p) for p in args.flumine_peer])) + "\n")
        return 0
    if args.nautilus_peer is not None:
        sys.stdout.write(json.dumps(nautilus_peer([Path(p) for p in args.nautilus_peer])) + "\n")
        return 0

    import orjson

    from engine.logs import configure_logging

    configure_logging(args.log_level)
    corpus_files = sorted(CORPUS_DAY.glob("*/1.*.gz"))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        folder = Path(tmp)
        config = tiny_config(folder) if args.tiny_emulators else args.config
        for name, paths, files in (
            ("real file (Wimbledon 2018)", [REAL_FILE], [REAL_FILE]),
            ("corpus day (data/sample)", [CORPUS_DAY], corpus_files),
        ):
            worker_counts = (1,) if name.startswith("real") else (1, 2)
            for workers in worker_counts:
                out = folder / f"out-{len(rows)}"
                rows.append(
                    {"input": name, **run_courtside(paths, config, workers, out, args.log_level)}
                )
            for flag in ("--flumine-peer", "--nautilus-peer"):
                peer = run_peer(args.flumine_python, flag, files)
                if peer is not None:
                    rows.append({"input": name, **peer})
    for name in {r["input"] for r in rows}:
        base = next(
            (
                r
                for r in rows
                if r["input"] == name
                and str(r["implementation"]).startswith("flumine")
                and "messages_per_s" in r
            ),
            None,
        )
        for row in rows:
            if base is not None and row["input"] == name and "messages_per_s" in row:
                row["x_flumine"] = round(row["messages_per_s"] / base["messages_per_s"], 3)
    report = {
        "machine": _machine(),
        "emulators": (
            "tiny GRU (hidden 16), gate opened"
            if args.tiny_emulators
            else str(args.config or "repository engine.toml")
        ),
        "log_level": args.log_level,
        "nautilus_trader": nautilus_available(args.flumine_python) or "not installed",
        "rows": rows,
    }
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
