"""Tiny GRU emulators (full and lite) exported once per session, so the core steps real ONNX
graphs, and the events of one bundled sample match merged by time."""

import gzip
import heapq
import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from engine.score.ticks import ScoreTick, decode_tick

MATCH = "2013-wimbledon-1401"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from training.export import ExportSpec, export_model
    from training.models import build_model

    out = tmp_path_factory.mktemp("core-models")
    rng = np.random.default_rng(11)
    for variant in ("full", "lite"):
        torch.manual_seed(5)
        model = build_model("gru", embed=8, hidden=16)
        static = rng.normal(size=(2, 7)).astype(np.float32)
        seq = rng.normal(size=(2, 6, model.config.token_dim)).astype(np.float32)
        spec = ExportSpec(variant=variant, data_hash="0" * 64, metrics={}, training={})
        export_model(model, out, f"gru_{variant}", spec, parity_static=static, parity_seq=seq)
    return out


def sample_events(folder: Path) -> tuple[dict[str, Any], list[tuple[float, int, Any]]]:
    """(match.json, [(ts, 0, mcm dict) | (ts, 1, ScoreTick)]) in time order."""
    meta: dict[str, Any] = json.loads((folder / "match.json").read_text())
    stream = []
    with gzip.open(folder / f"{meta['market_id']}.gz", "rb") as handle:
        for line in handle:
            message = orjson.loads(line)
            stream.append((message["pt"] / 1000.0, 0, message))
    ticks: list[tuple[float, int, ScoreTick]] = [
        (tick.ts, 1, tick)
        for tick in map(decode_tick, (folder / "ticks.jsonl").read_bytes().splitlines())
    ]
    return meta, list(heapq.merge(stream, ticks, key=lambda e: (e[0], e[1])))


@pytest.fixture(scope="session")
def match_events(repo_root: Path) -> tuple[dict[str, Any], list[tuple[float, int, Any]]]:
    return sample_events(repo_root / "data" / "sample" / MATCH)
