import pytest

from engine.market import ticks


def test_ladder_has_350_prices_with_betfair_band_edges():
    assert ticks.N_TICKS == 350
    assert ticks.LADDER[0] == 1.01
    assert ticks.LADDER[-1] == 1000.0
    # band boundaries: the step changes after 2, 3, 4, 6, 10, 20, 30, 50, 100
    for edge, next_price in [
        (2.0, 2.02),
        (3.0, 3.05),
        (4.0, 4.1),
        (6.0, 6.2),
        (10.0, 10.5),
        (20.0, 21.0),
        (30.0, 32.0),
        (50.0, 55.0),
        (100.0, 110.0),
    ]:
        assert ticks.shift_ticks(edge, 1) == next_price


def test_tick_index_roundtrip_and_off_ladder_rejected():
    for i, price in enumerate(ticks.LADDER):
        assert ticks.tick_index(price) == i
        assert ticks.price_at(i) == price
    with pytest.raises(ValueError, match="price"):
        ticks.tick_index(2.01)
    assert ticks.tick_index_or_none(2.01) is None
    assert not ticks.is_on_ladder(3.33)
    assert ticks.is_on_ladder(3.35)


@pytest.mark.parametrize(
    ("price", "direction", "expected"),
    [
        (2.013, "down", 2.0),
        (2.013, "up", 2.02),
        (2.013, "nearest", 2.02),
        (3.33, "down", 3.3),
        (3.33, "up", 3.35),
        (1.005, "up", 1.01),
        (1500.0, "down", 1000.0),
        (4.5, "nearest", 4.5),
    ],
)
def test_round_to_tick(price, direction, expected):
    assert ticks.round_to_tick(price, direction) == expected


def test_round_to_tick_rejects_impossible_odds():
    with pytest.raises(ValueError, match="price"):
        ticks.round_to_tick(1.0)
    with pytest.raises(ValueError, match="direction"):
        ticks.round_to_tick(2.5, "sideways")


def test_ticks_between_counts_across_bands():
    assert ticks.ticks_between(1.98, 2.04) == 4
    assert ticks.ticks_between(2.04, 1.98) == -4
