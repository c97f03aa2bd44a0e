"""The four shipped emulators in models_onnx/: they load on the current feature schema, run on
tokens the engine builds from real aligned data, and a changed schema hash is refused."""

import json
import shutil

import numpy as np
import pytest

from engine.features.schema import SCHEMA_HASH, SCHEMA_VERSION
from engine.models.metadata import SchemaMismatchError, load_metadata
from engine.models.runner import load_emulator
from training.align import align_corpus, read_aligned
from training.tensorise import group_matches, match_tensors

SHIPPED = ["gru_full", "gru_lite", "transformer_full", "transformer_lite"]


@pytest.fixture(scope="module")
def sample_match(repo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("shipped") / "aligned.parquet"
    align_corpus(repo_root / "data" / "sample", out, limit=1)
    return match_tensors(group_matches(read_aligned(out))[0])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_on_the_current_schema(repo_root, name):
    path = repo_root / "models_onnx" / f"{name}.onnx"
    meta = load_metadata(path)
    assert meta.schema_hash == SCHEMA_HASH and meta.schema_version == SCHEMA_VERSION
    assert meta.parity_max_abs_diff <= 1e-5
    assert meta.variant == name.split("_")[1] and meta.kind == name.split("_")[0]
    assert meta.training["command"].startswith("courtside train --model")
    assert load_emulator(path).metadata == meta


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_prices_a_real_match(repo_root, sample_match, name):
    runner = load_emulator(repo_root / "models_onnx" / f"{name}.onnx")
    state = runner.new_state()
    runner.reset(state, sample_match.static)
    seq = sample_match.seq.copy()
    if name.endswith("lite"):
        from engine.features.builders import apply_variant

        apply_variant(seq, "lite")
    prices = np.array([runner.step(state, token).price for token in seq])
    assert np.all((prices > 0.0) & (prices < 1.0))
    # far better than a coin: the emulator follows the market over a whole match
    rmse = float(np.sqrt(np.mean((prices - sample_match.y) ** 2)))
    assert rmse < 0.15


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_with_another_schema_hash_is_refused(repo_root, name, tmp_path):
    src = repo_root / "models_onnx" / f"{name}.onnx"
    shutil.copy(src, tmp_path / src.name)
    meta = json.loads(src.with_suffix(".json").read_text())
    meta["schema_hash"] = "0" * 64
    (tmp_path / f"{name}.json").write_text(json.dumps(meta))
    with pytest.raises(SchemaMismatchError, match="feature schema hash 000000000000"):
        load_emulator(tmp_path / src.name)
