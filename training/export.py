"""Single-step ONNX export of a trained emulator, plus its metadata JSON.

GRU graph — inputs: static (1,S), token (1,F), state (layers,1,hidden), reset (1,);
outputs: price (1,), logvar (1,), distress (1,), state_out (layers,1,hidden).

Transformer graph — inputs: static (1,S), token (1,F), position () int64, then per layer i
past_key_i and past_value_i (P, d_model) with P == position; outputs: price, logvar, distress,
then per layer new_key_i and new_value_i (1, d_model). The caller owns the cache and binds the new
rows straight into it (append-only): nothing copies the cache per step (DESIGN.md §3).

The legacy TorchScript exporter is used (dynamo=False): it needs no onnxscript and traces these
small step functions exactly. After writing, the parity check runs and the export fails if ONNX
Runtime and PyTorch differ by more than the tolerance.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.jit._trace import TracerWarning

from engine.features.schema import SCHEMA_HASH, SCHEMA_VERSION, STATIC_DIM, VARIANTS
from engine.logs import get_logger
from engine.models.metadata import METADATA_SUFFIX, ModelMetadata
from engine.models.runner import kv_input_names, kv_output_names
from training.models import Emulator, GRUEmulator, TransformerEmulator, build_model, model_config

OPSET = 17
log = get_logger(__name__)


class _GRUStep(nn.Module):
    def __init__(self, model: GRUEmulator) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, static: Tensor, token: Tensor, state: Tensor, reset: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.model.step(static, token, state, reset)


class _TransformerStep(nn.Module):
    def __init__(self, model: TransformerEmulator) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, static: Tensor, token: Tensor, position: Tensor, *past: Tensor
    ) -> tuple[Tensor, ...]:
        return self.model.step(static, token, position, list(past))


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """What the export records about the model besides its weights."""

    variant: str
    data_hash: str
    metrics: dict[str, float]
    training: dict[str, Any]

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant: must be one of {list(VARIANTS)}, got {self.variant!r}")


def _export_graph(model: Emulator, path: Path) -> None:
    c = model.config
    static = torch.zeros(1, c.static_dim)
    token = torch.zeros(1, c.token_dim)
    with warnings.catch_warnings():
        # torch is pinned (pyproject), so the legacy exporter's deprecation notice is not news;
        # its GRU batch-size warning does not apply to a batch-1 step graph
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*feature will be removed.*")
        warnings.filterwarnings("ignore", message=".*batch_size other than 1.*")
        warnings.filterwarnings("ignore", category=TracerWarning)
        if isinstance(model, GRUEmulator):
            _export_gru(model, static, token, path)
        else:
            _export_transformer(model, static, token, path)


def _export_gru(model: GRUEmulator, static: Tensor, token: Tensor, path: Path) -> None:
    state = torch.zeros(model.config.layers, 1, model.config.hidden)
    torch.onnx.export(
        _GRUStep(model),
        (static, token, state, torch.ones(1)),
        str(path),
        input_names=["static", "token", "state", "reset"],
        output_names=["price", "logvar", "distress", "state_out"],
        opset_version=OPSET,
        dynamo=False,
    )


def _export_transformer(
    model: TransformerEmulator, static: Tensor, token: Tensor, path: Path
) -> None:
    tc = model.config
    past = [torch.zeros(3, tc.d_model) for _ in range(2 * tc.layers)]
    past_names = kv_input_names(tc.layers)
    torch.onnx.export(
        _TransformerStep(model),
        (static, token, torch.tensor(3, dtype=torch.int64), *past),
        str(path),
        input_names=["static", "token", "position", *past_names],
        output_names=["price", "logvar", "distress", *kv_output_names(tc.layers)],
        dynamic_axes={name: {0: "past"} for name in past_names},
        opset_version=OPSET,
        dynamo=False,
    )


def export_model(
    model: Emulator,
    out_dir: Path,
    name: str,
    spec: ExportSpec,
    *,
    parity_static: np.ndarray[Any, np.dtype[np.float32]],
    parity_seq: np.ndarray[Any, np.dtype[np.float32]],
    parity_lengths: np.ndarray[Any, np.dtype[np.int64]] | None = None,
    tolerance: float = 1e-5,
) -> tuple[Path, ModelMetadata]:
    """Write NAME.onnx and NAME.json under out_dir after a passing parity check.

    parity_static (M, S) / parity_seq (M, T, F): whole matches (validation) the ONNX graph is run
    over step by step and compared with PyTorch's full-sequence forward.
    """
    from training.parity import check_parity

    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tmp_path = Path(tmp) / onnx_path.name
        with torch.no_grad():
            _export_graph(model, tmp_path)
        report = check_parity(
            model,
            tmp_path,
            parity_static,
            parity_seq,
            tolerance=tolerance,
            lengths=parity_lengths,
        )
        os.replace(tmp_path, onnx_path)
    metadata = ModelMetadata(
        name=name,
        architecture=model_config(model),
        variant=spec.variant,
        schema_version=SCHEMA_VERSION,
        schema_hash=SCHEMA_HASH,
        data_hash=spec.data_hash,
        metrics=dict(spec.metrics),
        parity_max_abs_diff=report.max_abs_diff,
        created_utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        opset=OPSET,
        onnx_file=onnx_path.name,
        training=dict(spec.training),
    )
    meta_path = out_dir / f"{name}{METADATA_SUFFIX}"
    meta_path.write_text(json.dumps(metadata.to_dict(), indent=2, sort_keys=True) + "\n")
    log.info(
        "model_exported",
        path=str(onnx_path),
        parity_max_abs_diff=report.max_abs_diff,
        steps=report.steps,
    )
    return onnx_path, metadata


def export_untrained_pair(
    out_dir: Path,
    kind: str = "gru",
    *,
    prefix: str = "",
    seed: int = 0,
    torch_seed: int = 0,
    tolerance: float = 1e-5,
    **sizes: Any,
) -> tuple[Path, Path]:
    """An Emu-full and an Emu-lite with UNTRAINED weights (torch_seed), exported with the parity
    check as PREFIX{kind}_full.onnx / _lite.onnx: for tests and latency benchmarks, where the
    graphs must be real but the weights' values do not matter. Never for pricing."""
    rng = np.random.default_rng(seed)
    paths = []
    for variant in ("full", "lite"):
        torch.manual_seed(torch_seed)
        model = build_model(kind, **sizes)
        static = rng.normal(size=(2, STATIC_DIM)).astype(np.float32)
        seq = rng.normal(size=(2, 6, model.config.token_dim)).astype(np.float32)
        spec = ExportSpec(variant=variant, data_hash="0" * 64, metrics={}, training={})
        path, _ = export_model(
            model,
            out_dir,
            f"{prefix}{kind}_{variant}",
            spec,
            parity_static=static,
            parity_seq=seq,
            tolerance=tolerance,
        )
        paths.append(path)
    return paths[0], paths[1]
