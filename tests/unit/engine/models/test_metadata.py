import json

import pytest

from engine.features.schema import SCHEMA_HASH, SCHEMA_VERSION
from engine.models.metadata import ModelMetadata, SchemaMismatchError, load_metadata


def _raw(**overrides):
    raw = {
        "name": "gru_full",
        "architecture": {"kind": "gru", "hidden": 128},
        "variant": "full",
        "schema_version": SCHEMA_VERSION,
        "schema_hash": SCHEMA_HASH,
        "data_hash": "ab" * 32,
        "metrics": {"rmse_ppt": 0.9},
        "parity_max_abs_diff": 1e-7,
        "created_utc": "2026-01-01T00:00:00Z",
        "opset": 17,
        "onnx_file": "gru_full.onnx",
        "training": {},
    }
    raw.update(overrides)
    return raw


def test_round_trip():
    meta = ModelMetadata.from_dict(_raw())
    assert meta.kind == "gru"
    assert ModelMetadata.from_dict(meta.to_dict()) == meta
    meta.check_schema()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"variant": "medium"}, "metadata.variant"),
        ({"architecture": {"kind": "lstm"}}, "metadata.architecture.kind"),
        ({"opset": "17"}, "metadata.opset: wrong type"),
        ({"metrics": {"rmse_ppt": "low"}}, "metadata.metrics.rmse_ppt"),
        ({"extra": 1}, "metadata.extra: unknown key"),
    ],
)
def test_bad_metadata_is_refused_with_the_key(overrides, message):
    with pytest.raises(ValueError, match=message):
        ModelMetadata.from_dict(_raw(**overrides))


def test_missing_key_is_named():
    raw = _raw()
    del raw["schema_hash"]
    with pytest.raises(ValueError, match=r"metadata\.schema_hash: missing"):
        ModelMetadata.from_dict(raw)


def test_schema_mismatch_names_both_hashes():
    meta = ModelMetadata.from_dict(_raw(schema_hash="0" * 64, schema_version=0))
    with pytest.raises(SchemaMismatchError, match=r"000000000000… \(version 0\) differs"):
        meta.check_schema()


def test_load_metadata_reports_the_file(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"m\.json: not valid JSON"):
        load_metadata(bad)
    good = tmp_path / "g.json"
    good.write_text(json.dumps(_raw()))
    assert load_metadata(tmp_path / "g.onnx").name == "gru_full"
