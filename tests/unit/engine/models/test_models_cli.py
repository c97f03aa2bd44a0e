import json
import shutil

from engine.cli import main


def test_models_list_prints_each_model_with_metadata(exported, tmp_path, capsys):
    for path in exported.values():
        shutil.copy(path, tmp_path)
        shutil.copy(path.with_suffix(".json"), tmp_path)
    (tmp_path / "orphan.onnx").write_bytes(b"")

    status = main(["models", "list", "--dir", str(tmp_path)])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert len(lines) == 3
    assert lines[0].startswith("gru_tiny") and " ok " in lines[0] and "rmse_ppt=1" in lines[0]
    assert lines[1].startswith("orphan") and "UNUSABLE" in lines[1]
    assert lines[2].startswith("transformer_tiny")


def test_models_list_json(exported, tmp_path, capsys):
    shutil.copy(exported["gru"], tmp_path)
    meta = json.loads(exported["gru"].with_suffix(".json").read_text())
    meta["schema_hash"] = "e" * 64
    (tmp_path / "gru_tiny.json").write_text(json.dumps(meta))

    status = main(["models", "list", "--dir", str(tmp_path), "--json"])

    record = json.loads(capsys.readouterr().out)
    assert status == 0
    assert record["problem"] == "feature schema differs"
    assert record["metadata"]["architecture"]["kind"] == "gru"


def test_models_list_missing_dir_exits_2(tmp_path, capsys):
    assert main(["models", "list", "--dir", str(tmp_path / "none")]) == 2
    assert "not found" in capsys.readouterr().err


def test_every_shipped_model_matches_the_current_schemas():
    from engine.models.cli import DEFAULT_MODELS_DIR, find_models

    shipped = find_models(DEFAULT_MODELS_DIR)
    assert shipped, "models_onnx/ ships at least the serve-point prior"
    assert [problem for _, _, problem in shipped] == [""] * len(shipped)


def test_shipped_prior_predicts_serve_probabilities():
    import numpy as np

    from engine.features.prior_schema import PRIOR_FEATURES
    from engine.models.cli import DEFAULT_MODELS_DIR
    from engine.models.prior import load_prior

    runner = load_prior(DEFAULT_MODELS_DIR / "prior.onnx")
    even = dict.fromkeys(PRIOR_FEATURES, 0.0)
    even.update(server_serve=0.63, server_serve_surface=0.63, returner_return=0.37)
    even.update(returner_return_surface=0.37, server_experience=0.8, returner_experience=0.8)
    even.update(surface_hard=1.0)
    strong = {**even, "surface_elo_diff": 0.75, "elo_diff": 0.75, "server_serve": 0.68}
    x = np.array([[row[n] for n in PRIOR_FEATURES] for row in (even, strong)], dtype=np.float32)
    p = runner.predict(x)
    assert 0.58 < p[0] < 0.68  # an average ATP hard-court server
    assert p[1] > p[0]
