"""Tiny train -> export -> parity runs, in Python and through the `courtside` CLI."""

import json

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.models.metadata import load_metadata
from engine.models.runner import load_emulator
from training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from training.export import ExportSpec, export_model
from training.export_flow import export_checkpoint
from training.models import build_model
from training.parity import ParityError, check_parity
from training.tensors import SPLIT_VAL, data_hash, save_tensors
from training.train import TrainConfig, train

KINDS = ["gru", "transformer"]


@pytest.mark.parametrize("kind", KINDS)
def test_train_export_parity(kind, tiny, synthetic, tmp_path):
    result = train(synthetic, TrainConfig(model=kind, sizes=tiny[kind], max_epochs=2, batch_size=4))
    ckpt = Checkpoint(result.model, "full", data_hash(synthetic), result.val_metrics, {"x": 1})
    save_checkpoint(tmp_path / "m.pt", ckpt)
    reloaded = load_checkpoint(tmp_path / "m.pt")

    onnx_path, metadata = export_checkpoint(reloaded, synthetic, tmp_path / "out", f"{kind}_t")

    assert metadata.parity_max_abs_diff <= 1e-5
    assert load_metadata(onnx_path) == metadata
    assert metadata.metrics == pytest.approx(result.val_metrics)
    assert metadata.data_hash == data_hash(synthetic)
    val = synthetic.subset(SPLIT_VAL)
    report = check_parity(
        reloaded.model, onnx_path, val.static, val.seq, lengths=val.lengths, tolerance=1e-5
    )
    assert report.max_abs_diff <= 1e-5 and report.steps == int(val.lengths.sum())
    # the engine runner reproduces the PyTorch price of the first validation match
    runner = load_emulator(onnx_path)
    state = runner.new_state()
    runner.reset(state, val.static[0])
    prices = [runner.step(state, tok).price for tok in val.seq[0, : val.lengths[0]]]
    with torch.no_grad():
        ref, _, _ = reloaded.model(torch.from_numpy(val.static[:1]), torch.from_numpy(val.seq[:1]))
    assert np.max(np.abs(np.array(prices) - ref[0, : val.lengths[0]].numpy())) <= 1e-5


def test_parity_catches_a_graph_that_differs(tiny, synthetic, tmp_path):
    torch.manual_seed(0)
    result = train(synthetic, TrainConfig(model="gru", sizes=tiny["gru"], max_epochs=1))
    val = synthetic.subset(SPLIT_VAL)
    spec = ExportSpec("full", "0" * 64, {}, {})
    onnx_path, _ = export_model(
        result.model, tmp_path, "g", spec, parity_static=val.static, parity_seq=val.seq
    )
    with torch.no_grad():
        result.model.heads.linear.bias.add_(0.01)  # PyTorch now differs from the exported graph
    with pytest.raises(ParityError, match="differs from PyTorch"):
        check_parity(result.model, onnx_path, val.static, val.seq)


def test_export_refuses_unknown_variant():
    with pytest.raises(ValueError, match="variant"):
        ExportSpec("medium", "", {}, {})


@pytest.mark.parametrize("kind", KINDS)
def test_cli_train_export_and_list(kind, synthetic, tmp_path, capsys):
    data = tmp_path / "tensors.npz"
    save_tensors(data, synthetic)
    out, models = tmp_path / "ckpt", tmp_path / "models"
    common = ["--model", kind, "--variant", "lite", "--data", str(data), "--out", str(out)]

    status = main(["train", *common, "--epochs", "1", "--export-to", str(models)])

    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["parity_max_abs_diff"] <= 1e-5
    name = f"{kind}_lite"
    assert (out / f"{name}.pt").is_file() and (models / f"{name}.onnx").is_file()
    metadata = load_metadata(models / f"{name}.onnx")
    assert metadata.variant == "lite" and metadata.architecture["kind"] == kind
    assert metadata.training["config"]["model"] == kind
    assert metadata.training["command"].startswith(f"courtside train --model {kind} --variant lite")

    status = main(
        [
            "export",
            "--checkpoint",
            str(out / f"{name}.pt"),
            "--data",
            str(data),
            "--out",
            str(models),
            "--name",
            f"{name}_again",
            "--parity-matches",
            "2",
        ]
    )
    assert status == 0
    capsys.readouterr()
    assert main(["models", "list", "--dir", str(models)]) == 0
    listing = capsys.readouterr().out
    assert f"{name} " in listing and f"{name}_again" in listing


def test_cli_reports_bad_data_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, static=np.zeros((1, 7), dtype=np.float32))
    status = main(
        ["train", "--model", "gru", "--variant", "full", "--data", str(bad), "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip() == "courtside train: error: tensors.seq: missing from bad.npz"


def test_cli_sweep_then_train(synthetic, tmp_path, capsys):
    data = tmp_path / "tensors.npz"
    save_tensors(data, synthetic)
    status = main(
        ["train", "--model", "gru", "--variant", "full", "--data", str(data),
         "--out", str(tmp_path), "--epochs", "1", "--sweep-trials", "2"]
    )  # fmt: skip
    assert status == 0
    assert json.loads(capsys.readouterr().out)["best_epoch"] == 1
    ckpt = load_checkpoint(tmp_path / "gru_full.pt")
    assert len(ckpt.training["sweep"]) == 2
    assert "--sweep-trials 2" in ckpt.training["command"]


def test_a_checkpoint_with_another_price_head_is_refused(tiny, tmp_path):
    model = build_model("gru", **tiny["gru"])
    save_checkpoint(tmp_path / "m.pt", Checkpoint(model, "full", "0" * 64, {}, {}))
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    raw["architecture"].pop("head")  # as saved before the anchored head
    torch.save(raw, tmp_path / "old.pt")

    with pytest.raises(ValueError, match="pre-anchor price head"):
        load_checkpoint(tmp_path / "old.pt")
