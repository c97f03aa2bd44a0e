import numpy as np
import pytest
import torch

from training.tensors import SPLIT_TRAIN, SPLIT_VAL
from training.train import TrainConfig, evaluate, train

KINDS = ["gru", "transformer"]


def _config(kind, tiny, **kw):
    base = dict(model=kind, sizes=tiny[kind], max_epochs=6, batch_size=4, lr=3e-3)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("kind", KINDS)
def test_training_improves_validation_rmse(kind, tiny, synthetic):
    result = train(synthetic, _config(kind, tiny))
    first = result.history[0]["rmse_ppt"]
    assert result.val_metrics["rmse_ppt"] < first
    assert result.val_metrics["rmse_ppt"] == pytest.approx(
        min(h["rmse_ppt"] for h in result.history)
    )
    assert not result.model.training


def test_same_seed_same_weights(tiny, synthetic):
    a = train(synthetic, _config("gru", tiny, max_epochs=2))
    b = train(synthetic, _config("gru", tiny, max_epochs=2))
    c = train(synthetic, _config("gru", tiny, max_epochs=2, seed=1))
    sa, sb, sc = a.model.state_dict(), b.model.state_dict(), c.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_early_stopping_after_patience(tiny, synthetic):
    # a learning rate too small to move the RMSE: epoch 1 stays best, stop at 1 + patience
    result = train(synthetic, _config("gru", tiny, max_epochs=20, patience=2, lr=1e-12))
    assert result.best_epoch == 1
    assert result.epochs_run == 3


def test_evaluate_reports_the_validation_table(tiny, synthetic):
    result = train(synthetic, _config("gru", tiny, max_epochs=1))
    metrics = evaluate(result.model, synthetic.subset(SPLIT_VAL))
    assert set(metrics) >= {"rmse_ppt", "rmse_post_mto_ppt", "points"}
    assert metrics["points"] == synthetic.subset(SPLIT_VAL).mask.sum()


def test_needs_train_and_validation_matches(tiny, synthetic):
    only_train = synthetic.subset(SPLIT_TRAIN)
    with pytest.raises(ValueError, match=r"tensors\.split"):
        train(only_train, _config("gru", tiny))


def test_config_validation():
    with pytest.raises(ValueError, match="patience"):
        TrainConfig(patience=0)
    assert np.isclose(TrainConfig().weight_decay, 1e-5)
    assert TrainConfig().patience == 5


def test_sweep_is_seeded_and_returns_the_best_trial(tiny, synthetic):
    from training.sweep import sweep

    base = _config("gru", tiny, max_epochs=2)
    a = sweep(synthetic, base, trials=3)
    b = sweep(synthetic, base, trials=3)
    assert [t["lr"] for t in a.trials] == [t["lr"] for t in b.trials]
    assert a.best_rmse_ppt == min(t["rmse_ppt"] for t in a.trials)
    assert a.best_config.sizes["hidden"] == 16  # the architecture is not searched
    with pytest.raises(ValueError, match="trials"):
        sweep(synthetic, base, trials=0)
