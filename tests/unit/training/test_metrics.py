import math

import numpy as np
import pytest

from training.metrics import auc, emulator_metrics, rmse_ppt


def test_rmse_in_probability_points():
    pred = np.array([[0.50, 0.52, 0.9]])
    target = np.array([[0.51, 0.50, 0.0]])
    mask = np.array([[True, True, False]])
    assert rmse_ppt(pred, target, mask) == pytest.approx(math.sqrt((1 + 4) / 2))
    assert math.isnan(rmse_ppt(pred, target, np.zeros_like(mask)))


def test_auc_with_ties_and_single_class():
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    assert math.isnan(auc(np.array([0.1, 0.2]), np.array([1, 1])))


def test_post_mto_rmse_uses_only_the_20_points_after():
    pred = np.array([[0.5, 0.5, 0.5]])
    y = np.array([[0.5, 0.6, 0.5]])
    out = emulator_metrics(
        pred,
        np.zeros_like(pred),
        y=y,
        distress=np.zeros_like(pred),
        mask=np.ones_like(pred, dtype=bool),
        pts_since_mto=np.array([[99, 3, 25]]),
    )
    assert out["rmse_post_mto_ppt"] == pytest.approx(10.0)
    assert "distress_auc" not in out  # one class only
    assert out["points"] == 3


def test_rmse_from_point_2_leaves_out_each_matchs_first_point():
    pred = np.array([[0.5, 0.5, 0.5], [0.2, 0.3, 0.0]])
    y = np.array([[0.9, 0.6, 0.5], [0.4, 0.3, 0.0]])
    mask = np.array([[True, True, True], [True, True, False]])
    out = emulator_metrics(
        pred,
        np.zeros_like(pred),
        y=y,
        distress=np.zeros_like(pred),
        mask=mask,
        pts_since_mto=np.full(pred.shape, 99),
    )
    assert out["rmse_from_point_2_ppt"] == pytest.approx(np.sqrt(0.01 / 3) * 100)
    assert out["rmse_ppt"] == pytest.approx(np.sqrt((0.16 + 0.01 + 0.04) / 5) * 100)
