"""What a player store needs from a prior's metadata: its last training year and tour means."""

import dataclasses

import pytest

from engine.models.metadata import load_metadata
from engine.models.prior import prior_tour_serve, prior_train_until


@pytest.fixture
def shipped(repo_root):
    return load_metadata(repo_root / "models_onnx" / "prior.onnx")


def test_the_shipped_prior_records_its_years_and_tour_means(shipped):
    assert prior_train_until(shipped) == 2021
    means = prior_tour_serve(shipped)
    assert means is not None and 0.6 < means["atp"] < 0.67 and 0.53 < means["wta"] < 0.6


def test_an_older_prior_says_its_years_through_its_command(shipped):
    training = {k: v for k, v in shipped.training.items() if k not in ("train_until", "tour_serve")}
    meta = dataclasses.replace(shipped, training=training)

    assert prior_train_until(meta) == 2021  # from "--train-until 2021" in the command
    assert prior_tour_serve(meta) is None  # exported before the means were recorded


def test_recorded_keys_win_over_the_command(shipped):
    meta = dataclasses.replace(
        shipped,
        training={
            **shipped.training,
            "train_until": 2009,
            "tour_serve": {"atp": 0.63, "wta": 0.56},
        },
    )

    assert prior_train_until(meta) == 2009
    assert prior_tour_serve(meta) == {"atp": 0.63, "wta": 0.56}


def test_a_prior_without_training_years_is_refused(shipped):
    meta = dataclasses.replace(shipped, training={"command": "courtside train --model prior"})

    with pytest.raises(ValueError, match="training years"):
        prior_train_until(meta)
