import csv
import gzip
import json

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.features.prior_history import read_matches, rows_hash, serve_rows, tour_means
from engine.features.prior_schema import PRIOR_DIM
from engine.models.metadata import SchemaMismatchError
from engine.models.prior import load_prior
from engine.models.runner import load_emulator
from training.prior.export import export_prior
from training.prior.fit import PriorConfig, fit_prior, point_metrics
from training.prior.model import PriorMLP

COLUMNS = [
    "tourney_id", "surface", "tourney_date", "match_num", "winner_id", "loser_id", "best_of",
    "round", "w_1stWon", "w_2ndWon", "w_svpt", "l_1stWon", "l_2ndWon", "l_svpt",
]  # fmt: skip


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    """Three synthetic seasons: stronger servers (low ids) win more serve points."""
    out = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(0)
    skill = np.linspace(0.70, 0.55, 12)
    for year in (2019, 2020, 2021):
        rows = []
        for week in range(30):
            a, b = rng.choice(12, size=2, replace=False)
            svpt_a, svpt_b = int(rng.integers(50, 90)), int(rng.integers(50, 90))
            won_a = int(rng.binomial(svpt_a, skill[a] - 0.05 * (skill[b] - 0.62)))
            won_b = int(rng.binomial(svpt_b, skill[b] - 0.05 * (skill[a] - 0.62)))
            w, lo = (a, b) if won_a / svpt_a >= won_b / svpt_b else (b, a)
            (w_won, w_sv), (l_won, l_sv) = (
                ((won_a, svpt_a), (won_b, svpt_b)) if w == a else ((won_b, svpt_b), (won_a, svpt_a))
            )
            rows.append({
                "tourney_id": f"{year}-{week}", "surface": ["Hard", "Clay"][week % 2],
                "tourney_date": year * 10000 + 101 + week, "match_num": 1,
                "winner_id": f"p{w}", "loser_id": f"p{lo}", "best_of": 3, "round": "R32",
                "w_1stWon": w_won, "w_2ndWon": 0, "w_svpt": w_sv,
                "l_1stWon": l_won, "l_2ndWon": 0, "l_svpt": l_sv,
            })  # fmt: skip
        with gzip.open(out / f"atp_matches_{year}.csv.gz", "wt", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return out


@pytest.fixture(scope="module")
def rows(results_dir):
    matches = read_matches(results_dir)
    return serve_rows(matches, tour_means(matches, 2019))


def test_prior_architecture_is_128_64_1_silu():
    layers = list(PriorMLP().net)
    linear = [m for m in layers if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (PRIOR_DIM, 128),
        (128, 64),
        (64, 1),
    ]
    assert sum(isinstance(m, torch.nn.SiLU) for m in layers) == 2


def test_point_metrics_known_values():
    m = point_metrics(np.array([0.5]), np.array([30.0]), np.array([60.0]))
    assert m["log_loss"] == pytest.approx(np.log(2))
    assert m["brier"] == pytest.approx(0.25)
    assert m["share_rmse_ppt"] == pytest.approx(0.0)


def test_fit_is_deterministic_and_reports_baselines(rows):
    config = PriorConfig(train_until=2019, max_epochs=4, batch_size=16, hidden=(16, 8))
    a = fit_prior(rows, config)
    b = fit_prior(rows, config)
    assert a.metrics == b.metrics
    for key in ("val_mlp_log_loss", "val_tour_mean_log_loss", "test_combination_brier"):
        assert key in a.metrics
    with pytest.raises(ValueError, match="validation year"):
        fit_prior(rows, PriorConfig(train_until=2021))


def test_export_parity_and_runner(rows, tmp_path):
    torch.manual_seed(0)
    model = PriorMLP(hidden=(16, 8))
    onnx_path, metadata = export_prior(
        model, tmp_path, "prior", parity_features=rows.features,
        data_hash=rows_hash(rows), metrics={"x": 1.0}, training={},
    )  # fmt: skip
    assert metadata.parity_max_abs_diff <= 1e-5 and metadata.kind == "prior"
    runner = load_prior(onnx_path)
    got = runner.predict(rows.features[:5])
    with torch.no_grad():
        want = model(torch.from_numpy(rows.features[:5])).numpy()
    assert got.shape == (5,) and np.max(np.abs(got - want)) <= 1e-5
    with pytest.raises(ValueError, match="features"):
        runner.predict(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="a prior model, not an emulator"):
        load_emulator(onnx_path)

    meta = json.loads(onnx_path.with_suffix(".json").read_text())
    meta["schema_hash"] = "d" * 64
    onnx_path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(SchemaMismatchError):
        load_prior(onnx_path)


def test_cli_trains_and_exports_the_prior(results_dir, tmp_path, capsys):
    status = main(
        ["train", "--model", "prior", "--data", str(results_dir), "--out", str(tmp_path / "ck"),
         "--export-to", str(tmp_path / "models"), "--train-until", "2019", "--epochs", "2"]
    )  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["parity_max_abs_diff"] <= 1e-5
    training = json.loads((tmp_path / "models" / "prior.json").read_text())["training"]
    matches = read_matches(results_dir)
    assert training["train_until"] == 2019  # what a live player store needs to rebuild features
    assert training["tour_serve"] == pytest.approx(tour_means(matches, 2019))
    assert main(["models", "list", "--dir", str(tmp_path / "models")]) == 0
    assert capsys.readouterr().out.startswith("prior ")


def test_cli_emulator_needs_a_variant(tmp_path, capsys):
    status = main(["train", "--model", "gru", "--data", str(tmp_path), "--out", str(tmp_path)])
    assert status == 2
    assert "--variant" in capsys.readouterr().err
