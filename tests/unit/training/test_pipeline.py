"""Sample day -> align -> tensorise -> tiny train -> export -> parity, and the dataset CLI."""

import json

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.models.metadata import load_metadata
from engine.models.runner import load_emulator
from training.align import align_corpus
from training.checkpoint import Checkpoint
from training.evaluate import evaluate_models
from training.export_flow import export_checkpoint
from training.tensorise import tensorise
from training.tensors import SPLIT_VAL, data_hash, load_tensors
from training.train import TrainConfig, train

TINY = {
    "gru": {"embed": 8, "hidden": 16},
    "transformer": {"d_model": 16, "heads": 2, "layers": 2, "ff": 32},
}


@pytest.fixture(scope="module")
def sample_tensors(repo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("pipeline")
    align_corpus(repo_root / "data" / "sample", work / "aligned.parquet")
    tensorise(work / "aligned.parquet", work / "tensors")
    return work / "tensors"


@pytest.mark.parametrize(("kind", "variant"), [("gru", "full"), ("transformer", "lite")])
def test_sample_day_trains_exports_and_matches_onnx(sample_tensors, kind, variant, tmp_path):
    data = load_tensors(sample_tensors / f"emu_{variant}.npz")
    result = train(
        data, TrainConfig(model=kind, sizes=TINY[kind], max_epochs=2, batch_size=2, threads=1)
    )
    ckpt = Checkpoint(result.model, variant, data_hash(data), result.val_metrics, {"test": 1})

    onnx_path, metadata = export_checkpoint(ckpt, data, tmp_path, f"{kind}_{variant}")

    assert metadata.parity_max_abs_diff <= 1e-5
    assert load_metadata(onnx_path).variant == variant
    assert 0.0 <= result.val_metrics["rmse_ppt"] < 100.0
    # the engine runner, fed the tensoriser's tokens, reproduces PyTorch on a validation match
    val = data.subset(SPLIT_VAL)
    runner = load_emulator(onnx_path)
    state = runner.new_state()
    runner.reset(state, val.static[0])
    n = int(val.lengths[0])
    prices = np.array([runner.step(state, token).price for token in val.seq[0, :n]])
    with torch.no_grad():
        ref, _, _ = result.model(torch.from_numpy(val.static[:1]), torch.from_numpy(val.seq[:1]))
    assert np.max(np.abs(prices - ref[0, :n].numpy())) <= 1e-5
    # scoring the exported graph step by step gives the trainer's validation numbers
    scored = evaluate_models([onnx_path], val)
    assert scored[onnx_path.stem]["rmse_ppt"] == pytest.approx(
        result.val_metrics["rmse_ppt"], abs=1e-3
    )
    assert scored["baseline: previous label"]["points"] == result.val_metrics["points"]


def test_dataset_cli_align_then_tensorise(repo_root, tmp_path, capsys):
    aligned = tmp_path / "a.parquet"
    assert (
        main(
            [
                "dataset",
                "align",
                "--corpus",
                str(repo_root / "data" / "sample"),
                "--out",
                str(aligned),
                "--matches",
                "2",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["matches"] == 2 and aligned.is_file()

    assert (
        main(
            [
                "dataset",
                "tensorise",
                "--aligned",
                str(aligned),
                "--out",
                str(tmp_path / "t"),
                "--variant",
                "lite",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["files"]) == ["lite"]
    assert load_tensors(tmp_path / "t" / "emu_lite.npz").variant == "lite"


def test_dataset_cli_bad_input_is_one_line(tmp_path, capsys):
    status = main(["dataset", "align", "--corpus", str(tmp_path), "--out", str(tmp_path / "x")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "matches.jsonl" in err[0]


@pytest.mark.slow
def test_one_command_retrain_writes_parity_checked_models(repo_root, tmp_path, capsys):
    out = tmp_path / "models"
    status = main(
        [
            "dataset",
            "retrain",
            "--corpus",
            str(repo_root / "data" / "sample"),
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
            "--models",
            "gru",
            "--variants",
            "lite",
            "--epochs",
            "1",
            "--jobs",
            "1",
            "--workers",
            "1",
        ]
    )
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["align"]["matches"] == 5
    meta = load_metadata(out / "gru_lite.json")
    assert meta.parity_max_abs_diff <= 1e-5 and meta.variant == "lite"
    assert meta.training["command"].startswith("courtside train --model gru --variant lite")
    assert report["models"]["gru_lite"]["parity_max_abs_diff"] <= 1e-5

    status = main(
        [
            "dataset",
            "evaluate",
            "--tensors",
            str(tmp_path / "work" / "tensors"),
            "--models",
            str(out / "gru_lite.onnx"),
            "--split",
            "val",
        ]
    )
    assert status == 0
    scored = json.loads(capsys.readouterr().out)["results"]
    assert scored["gru_lite"]["rmse_ppt"] == pytest.approx(meta.metrics["rmse_ppt"], abs=1e-3)
    assert "baseline: previous label + fair move" in scored
    anchor = scored["baseline: anchor (last market price + fair logit move) [lite]"]
    assert anchor["points"] == scored["gru_lite"]["points"]
