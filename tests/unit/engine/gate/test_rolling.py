"""Rolling statistics of the gate: exact against a brute-force recompute."""

import random
import statistics

import pytest

from engine.gate.rolling import RollingMeanAbs, RunningMedian


def test_rolling_mean_abs_matches_recompute_over_the_last_n():
    rng = random.Random(7)
    window = RollingMeanAbs(20)
    seen: list[float] = []
    for _ in range(500):
        x = rng.uniform(-0.05, 0.05)
        window.add(x)
        seen.append(abs(x))
        expected = sum(seen[-20:]) / len(seen[-20:])
        assert window.mean == pytest.approx(expected, abs=1e-12)
    assert window.count == 20


def test_rolling_mean_abs_ignores_non_finite_values_and_clears():
    window = RollingMeanAbs(3)
    assert window.mean is None
    window.add(float("nan"))
    window.add(0.02)
    assert window.count == 1
    assert window.mean == pytest.approx(0.02)
    window.clear()
    assert window.mean is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_running_median_stays_within_one_bin_of_the_exact_median(seed):
    rng = random.Random(seed)
    med = RunningMedian(rel_width=0.01)
    values: list[float] = []
    for i in range(2000):
        x = rng.lognormvariate(8.0, 1.0)
        med.add(x)
        values.append(x)
        if i % 97 == 0:
            exact = sorted(values)[(len(values) - 1) // 2]
            assert med.median == pytest.approx(exact, rel=0.011)
    assert med.count == 2000
    assert med.median == pytest.approx(statistics.median_low(values), rel=0.011)


def test_running_median_handles_zero_depth_and_bad_values():
    med = RunningMedian()
    assert med.median is None
    for value in (0.0, 0.0, 500.0, float("nan"), -3.0):
        med.add(value)
    assert med.count == 3
    assert med.median == 0.0
