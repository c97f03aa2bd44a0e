"""The report's number functions against hand-computed values."""

from __future__ import annotations

import math

import pytest

from replay.report import metrics as m


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    # cumulative: 10, 4, 12, 2, 7 -> worst fall 12 -> 2 = 10
    assert m.max_drawdown([10.0, -6.0, 8.0, -10.0, 5.0]) == pytest.approx(10.0)


def test_max_drawdown_counts_a_fall_from_the_start() -> None:
    assert m.max_drawdown([-3.0, -2.0, 4.0]) == pytest.approx(5.0)
    assert m.max_drawdown([1.0, 2.0]) == 0.0


def test_sharpe_is_mean_over_sample_std() -> None:
    returns = [0.1, -0.05, 0.2]
    mean = sum(returns) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)

    assert m.sharpe(returns) == pytest.approx(mean / std)
    assert m.sharpe([0.1]) is None
    assert m.sharpe([0.1, 0.1]) is None


def test_log_loss_and_brier() -> None:
    probs = [0.8, 0.3]
    outcomes = [1, 0]

    assert m.log_loss(probs, outcomes) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)
    assert m.brier(probs, outcomes) == pytest.approx((0.04 + 0.09) / 2)
    assert m.log_loss([], []) is None


def test_log_loss_clips_certain_wrong_forecasts() -> None:
    assert m.log_loss([1.0], [0]) == pytest.approx(-math.log(1e-6))


def test_calibration_bins_put_one_in_the_last_bin() -> None:
    bins = m.calibration([0.05, 0.07, 0.95, 1.0], [0, 1, 1, 1], bins=10)

    assert bins[0].count == 2
    assert bins[0].observed == pytest.approx(0.5)
    assert bins[0].mean_predicted == pytest.approx(0.06)
    assert bins[9].count == 2
    assert bins[5].mean_predicted is None


def test_rmse_ppt() -> None:
    value, n = m.rmse_ppt([(0.50, 0.52), (0.40, 0.38)])

    assert value == pytest.approx(2.0)
    assert n == 2
    assert m.rmse_ppt([]) == (None, 0)


@pytest.mark.parametrize(
    ("side", "won", "expected"),
    [("BACK", True, 15.0), ("BACK", False, -10.0), ("LAY", True, -15.0), ("LAY", False, 10.0)],
)
def test_back_lay_profit(side: str, won: bool, expected: float) -> None:
    assert m.back_lay_profit(side, 2.5, 10.0, won) == pytest.approx(expected)


def test_windows_overlap_with_an_open_ended_window() -> None:
    assert m.windows_overlap(5.0, [(1.0, 2.0), (4.0, None)])
    assert not m.windows_overlap(3.0, [(1.0, 2.0), (4.0, None)])
