"""PyTorch vs ONNX Runtime parity: the exported single-step graph, driven by the engine's own
runner over whole matches step by step, must reproduce the PyTorch full-sequence forward.

Comparing against the full-sequence forward (not the PyTorch step) also proves the state/KV-cache
plumbing: a cache bug shows as a divergence from the batch computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.models.runner import EmulatorRunner
from training.models import Emulator, GRUEmulator

Array = np.ndarray[Any, np.dtype[np.float32]]


class ParityError(AssertionError):
    """ONNX Runtime and PyTorch disagree beyond the tolerance."""


@dataclass(frozen=True, slots=True)
class ParityReport:
    max_abs_diff: float
    steps: int
    matches: int


def check_parity(
    model: Emulator,
    onnx_path: Path,
    static: Array,
    seq: Array,
    *,
    tolerance: float = 1e-5,
    lengths: np.ndarray[Any, np.dtype[np.int64]] | None = None,
) -> ParityReport:
    """Max |torch - onnx| over price, logvar and distress for every point of every match.

    static (M, S), seq (M, T, F); lengths (M,) limits each match to its real points.
    """
    if static.ndim != 2 or seq.ndim != 3 or static.shape[0] != seq.shape[0]:
        raise ValueError("parity: static (M, S) and seq (M, T, F) with the same M expected")
    kind = "gru" if isinstance(model, GRUEmulator) else "transformer"
    runner = EmulatorRunner(onnx_path, kind)
    model.eval()
    with torch.no_grad():
        price, logvar, distress_logit = model(torch.from_numpy(static), torch.from_numpy(seq))
    reference = np.stack(
        [price.numpy(), logvar.numpy(), torch.sigmoid(distress_logit).numpy()], axis=-1
    )
    worst = 0.0
    steps = 0
    for m in range(static.shape[0]):
        n = seq.shape[1] if lengths is None else int(lengths[m])
        state = runner.new_state(capacity=n + 1)
        runner.reset(state, static[m])
        for t in range(n):
            out = runner.step(state, seq[m, t])
            got = np.array([out.price, out.logvar, out.distress])
            worst = max(worst, float(np.max(np.abs(got - reference[m, t]))))
            steps += 1
    if not worst <= tolerance:
        raise ParityError(
            f"parity: ONNX Runtime differs from PyTorch by {worst:.3g} > {tolerance:.1g}"
        )
    return ParityReport(max_abs_diff=worst, steps=steps, matches=int(static.shape[0]))
