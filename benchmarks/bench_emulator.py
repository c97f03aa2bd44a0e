"""Single-step emulator latency in ONNX Runtime with IOBinding, at history lengths 50/200/400.

    python benchmarks/bench_emulator.py [--repeats 300]

The models are the DESIGN.md §5 architectures (GRU 64→2×128; Transformer 4 layers, d 128, 4 heads,
FF 512) with RANDOMLY INITIALISED weights (seed 0), exported by training/export.py with the parity
check. Latency does not depend on the weights' values; accuracy needs the trained models.

Per history length L the match state is first advanced L points; each timed call is then one step
at history L (the Transformer's cache length is set back to L before every call, which rewrites
row L: the same work as the step at L). Three ways to take that step are timed in the same run:

- ours: engine.models.runner (IOBinding, preallocated buffers, append-only KV cache);
- ort_run: the same session through session.run with numpy feeds, the caller then appends the
  new K/V rows with np.concatenate (the usual way without IOBinding);
- torch: the PyTorch module's own step function (eager, 1 thread, no_grad).

Prints one JSON object: median and p99 in µs and ratios peer / ours. intra_op_num_threads=1.

    python benchmarks/bench_emulator.py --idle-ms 0,1,10,100

times instead the GRU step (ours) after the process slept that long before each call: how much
of the step's cost is the CPU's caches gone cold while idle, as between the points of a live
match (an event loop waits in epoll for most of the time between two points). With
`--idle-mode spin` the gap is a busy-wait instead (the process keeps its CPU and touches almost no
memory): if the step is still slow after it, the caches were emptied by the machine's other
tenants, not by our own sleeping or our own work.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine.features.schema import STATIC_DIM, TOKEN_DIM  # noqa: E402
from engine.logs import configure_logging  # noqa: E402
from engine.models.runner import (  # noqa: E402
    EmulatorRunner,
    KVMatchState,
    kv_input_names,
    kv_output_names,
)
from training.export import ExportSpec, export_model  # noqa: E402
from training.models import GRUEmulator, TransformerEmulator, build_model  # noqa: E402

LENGTHS = (50, 200, 400)


def _time(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    arr = np.array(samples) / 1000.0
    return {"median_us": float(np.median(arr)), "p99_us": float(np.percentile(arr, 99))}


def _export(kind: str, out: Path) -> tuple[Any, Path]:
    torch.manual_seed(0)
    model = build_model(kind).eval()
    rng = np.random.default_rng(0)
    static = rng.normal(size=(2, STATIC_DIM)).astype(np.float32)
    seq = rng.normal(size=(2, 40, TOKEN_DIM)).astype(np.float32)
    spec = ExportSpec("full", "random-init", {}, {"note": "random weights, latency only"})
    path, _ = export_model(model, out, kind, spec, parity_static=static, parity_seq=seq)
    return model, path


def _ours(runner: EmulatorRunner, static: Any, tokens: Any, length: int) -> Callable[[], object]:
    state = runner.new_state(capacity=length + 8)
    runner.reset(state, static)
    for t in range(length):
        runner.step(state, tokens[t])
    token = tokens[length]
    if isinstance(state, KVMatchState):
        kv = state

        def step_kv() -> object:
            kv.length = length + 1  # static token + L points
            return runner.step(kv, token)

        return step_kv
    return lambda: runner.step(state, token)


def _ort_run(runner: EmulatorRunner, kind: str, static: Any, tokens: Any, length: int) -> Any:
    session = runner.session
    feeds: dict[str, Any] = {"static": static[None, :], "token": tokens[0][None, :]}
    if kind == "gru":
        feeds["state"] = np.zeros((2, 1, 128), dtype=np.float32)
        feeds["reset"] = np.zeros(1, dtype=np.float32)
        return lambda: session.run(None, feeds)
    layers = runner.layers
    past = {n: np.zeros((length + 1, 128), dtype=np.float32) for n in kv_input_names(layers)}
    names_out = kv_output_names(layers)

    def step() -> object:
        outputs = session.run(None, {**feeds, "position": np.array(length + 1), **past})
        grown = {
            name: np.concatenate([past[name], row])
            for name, row in zip(kv_input_names(layers), outputs[3:], strict=True)
        }
        return grown, names_out

    return step


def _torch(model: Any, kind: str, static: Any, tokens: Any, length: int) -> Any:
    s = torch.from_numpy(static[None, :])
    tok = torch.from_numpy(tokens[0][None, :])
    if isinstance(model, GRUEmulator):
        h = torch.zeros(2, 1, 128)
        reset = torch.zeros(1)

        def gru_step() -> object:
            with torch.no_grad():
                return model.step(s, tok, h, reset)

        return gru_step
    assert isinstance(model, TransformerEmulator)
    past = [torch.zeros(length + 1, 128) for _ in range(8)]
    position = torch.tensor(length + 1)

    def tr_step() -> object:
        with torch.no_grad():
            return model.step(s, tok, position, past)

    return tr_step


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _after_idle(
    step: Callable[[], object], idle_ms: float, repeats: int, spin: bool = False
) -> dict[str, float]:
    """Median/p99 of `step` when each call follows `idle_ms` of sleep or busy-wait (0: back to
    back)."""
    for _ in range(20):
        step()
    wait = _spin if spin else time.sleep
    samples = []
    for _ in range(repeats):
        if idle_ms > 0:
            wait(idle_ms / 1000.0)
        start = time.perf_counter_ns()
        step()
        samples.append(time.perf_counter_ns() - start)
    arr = np.array(samples) / 1000.0
    return {"median_us": float(np.median(arr)), "p99_us": float(np.percentile(arr, 99))}


def idle_report(idle_ms: list[float], repeats: int, spin: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    static = rng.normal(size=STATIC_DIM).astype(np.float32)
    tokens = rng.normal(size=(51, TOKEN_DIM)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        _model, path = _export("gru", Path(tmp))
        step = _ours(EmulatorRunner(path, "gru"), static, tokens, 50)
        # fewer repeats for long gaps: the point is the gap, not the sample size
        return {
            f"gru_after_{gap:g}ms_{'spin' if spin else 'idle'}": _after_idle(
                step, gap, repeats if gap < 50 else max(30, repeats // 10), spin
            )
            for gap in idle_ms
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument(
        "--idle-ms", default="", help="comma-separated idle gaps: time the GRU step after each"
    )
    parser.add_argument(
        "--idle-mode",
        choices=("sleep", "spin"),
        default="sleep",
        help="how the --idle-ms gap is spent: asleep, or busy-waiting on the CPU",
    )
    args = parser.parse_args()
    if args.idle_ms:
        configure_logging("WARNING")
        torch.set_num_threads(1)
        gaps = [float(v) for v in args.idle_ms.split(",")]
        report = {
            "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "python": platform.python_version(),
            "onnxruntime": __import__("onnxruntime").__version__,
            "repeats": args.repeats,
            "idle_mode": args.idle_mode,
            "results": idle_report(gaps, args.repeats, args.idle_mode == "spin"),
        }
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return 0
    configure_logging("WARNING")  # stdout carries only the JSON report
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    static = rng.normal(size=STATIC_DIM).astype(np.float32)
    tokens = rng.normal(size=(max(LENGTHS) + 1, TOKEN_DIM)).astype(np.float32)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("gru", "transformer"):
            model, path = _export(kind, Path(tmp))
            runner = EmulatorRunner(path, kind)
            for length in LENGTHS:
                ours = _time(_ours(runner, static, tokens, length), args.repeats)
                run = _time(_ort_run(runner, kind, static, tokens, length), args.repeats)
                eager = _time(_torch(model, kind, static, tokens, length), args.repeats)
                results[f"{kind}_T{length}"] = {
                    "ours_iobinding": ours,
                    "ort_run_numpy": run,
                    "torch_eager": eager,
                    "ratio_ort_run": run["median_us"] / ours["median_us"],
                    "ratio_torch": eager["median_us"] / ours["median_us"],
                }
    report = {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "onnxruntime": __import__("onnxruntime").__version__,
        "torch": torch.__version__,
        "repeats": args.repeats,
        "weights": "random init (seed 0), latency only",
        "results": results,
    }
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
