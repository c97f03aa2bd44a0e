"""Live-stream client throughput: loopback server (own process) -> TLS -> client -> market cache.

Both clients read the same recorded tennis market from `courtside stream serve --speed 0` (as fast
as the client reads) and keep a market cache up to date; the clock stops when the client has
applied every market change of the file. Peer: betfairlightweight's own stream client
(BetfairStream + StreamListener, lightweight, no output queue) pointed at the same server.
Reports messages/s (wall) and client CPU µs per message (the server runs in another process).

    python benchmarks/bench_stream_client.py [--file F] [--repeat 5]

TLS throughout, as on the live exchange (betfairlightweight's stream cannot run without it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared/data/betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
FIELDS = ["EX_ALL_OFFERS", "EX_TRADED", "EX_TRADED_VOL", "EX_LTP", "EX_MARKET_DEF"]


def count_changes(path: Path) -> int:
    from adapters.betfair.loopback.recording import Recording

    return sum(len(m.changes) for m in Recording.load(path).messages)


def start_server(path: Path, tls: bool) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    command = [sys.executable, "-m", "engine", "stream", "serve", str(path), "--speed", "0"]
    if tls:
        command.append("--tls")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    return process, info


def run_courtside(info: dict[str, Any], changes: int) -> tuple[float, float]:
    from adapters.betfair.processor import StreamProcessor
    from adapters.betfair.stream_client import StaticCredentials, StreamClient, StreamClientConfig

    class Consumer:
        def __init__(self) -> None:
            self.processor = StreamProcessor()

        def on_market_change(self, message: Any) -> None:
            self.processor.process(message)

        def on_order_change(self, message: Any) -> None:
            pass

        def on_subscription_reset(self, op: str) -> None:
            self.processor.cache.clear()

    async def main() -> tuple[float, float]:
        consumer = Consumer()
        config = StreamClientConfig(
            host="127.0.0.1",
            port=info["port"],
            tls=info["tls"],
            ca_file=info["ca_file"],
            server_hostname="localhost",
            subscribe_orders=False,
        )
        client = StreamClient(config, StaticCredentials(info["app_key"], info["session"]), consumer)
        wall, cpu = time.perf_counter(), time.process_time()
        task = asyncio.create_task(client.run())
        while consumer.processor.counters.market_updates < changes:
            await asyncio.sleep(0.001)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        client.stop()
        await task
        return wall, cpu

    import uvloop

    return uvloop.run(main())


def run_betfairlightweight(info: dict[str, Any], changes: int) -> tuple[float, float]:
    from betfairlightweight.streaming import StreamListener
    from betfairlightweight.streaming.betfairstream import BetfairStream

    listener = StreamListener(max_latency=None, lightweight=True)
    stream = BetfairStream(1, listener, info["app_key"], info["session"], 30, 65536, None)
    stream.host = "127.0.0.1"
    stream._BetfairStream__port = info["port"]  # the class hard-codes 443
    wall, cpu = time.perf_counter(), time.process_time()
    stream._connect()
    stream.authenticate()
    stream.subscribe_to_markets(
        market_filter={"eventTypeIds": ["2"], "marketTypes": ["MATCH_ODDS"]},
        market_data_filter={"fields": FIELDS},
        heartbeat_ms=5000,
    )
    reader = threading.Thread(target=_read_quietly, args=(stream,), daemon=True)
    reader.start()
    while listener.stream is None or listener.stream._updates_processed < changes:
        time.sleep(0.001)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stream.stop()
    reader.join(timeout=5)
    return wall, cpu


def _read_quietly(stream: Any) -> None:
    try:
        stream._read_loop()
    except Exception:  # stop() closes the socket under the reader
        return


def machine() -> dict[str, str]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    return {"cpu": model, "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from engine.logs import configure_logging

    configure_logging("WARNING")  # stdout carries only the JSON report
    tls = True
    changes = count_changes(args.file)
    runners = {"courtside": run_courtside, "betfairlightweight": run_betfairlightweight}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    for _ in range(args.repeat):
        for name, run in runners.items():  # interleaved so drift hits both alike
            process, info = start_server(args.file, tls)
            try:
                results[name].append(run(info, changes))
            finally:
                process.terminate()
                process.wait(timeout=10)
    rows = {}
    for name, samples in results.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        rows[name] = {
            "messages_per_s": round(changes / wall),
            "client_cpu_us_per_message": round(cpu / changes * 1e6, 1),
            "wall_s": round(wall, 3),
        }
    ratio = rows["courtside"]["messages_per_s"] / rows["betfairlightweight"]["messages_per_s"]
    report = {
        "file": args.file.name,
        "messages": changes,
        "tls": tls,
        "repeat": args.repeat,
        "results": rows,
        "courtside_vs_betfairlightweight_messages_per_s": round(ratio, 2),
        "machine": machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
