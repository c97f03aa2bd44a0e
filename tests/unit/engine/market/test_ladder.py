import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.market.ladder import PositionLadder, PriceLadder
from engine.market.ticks import LADDER


def test_back_side_best_is_highest_price_and_zero_size_removes_a_level():
    ladder = PriceLadder(descending=True)

    ladder.update([[1.5, 10], [1.6, 5], [1.55, 7]])
    ladder.update([[1.6, 0]])

    assert ladder.best() == (1.55, 7.0)
    assert ladder.top(3) == [(1.55, 7.0), (1.5, 10.0)]
    assert len(ladder) == 2


def test_lay_side_best_is_lowest_price_and_a_level_update_replaces_its_size():
    ladder = PriceLadder(descending=False)

    ladder.update([[2.0, 10], [2.02, 3]])
    ladder.update([[2.0, 4.5]])

    assert ladder.top(5) == [(2.0, 4.5), (2.02, 3.0)]
    assert ladder.size_at(2.0) == 4.5
    assert ladder.size_at(2.04) == 0.0


def test_integer_prices_address_the_same_tick_as_floats():
    ladder = PriceLadder(descending=False)

    ladder.update([[2, 10], [1000, 1]])
    ladder.update([[2.0, 0]])

    assert ladder.top(3) == [(1000.0, 1.0)]
    assert ladder.best_index == 349


def test_sparse_ladder_top_levels_span_the_whole_range():
    ladder = PriceLadder(descending=True)

    ladder.update([[1.01, 20], [1000, 2], [3.5, 1]])

    assert ladder.top(3) == [(1000.0, 2.0), (3.5, 1.0), (1.01, 20.0)]
    assert list(ladder.levels()) == ladder.top(3)


def test_update_reports_whether_the_best_level_changed():
    ladder = PriceLadder(descending=True)

    assert ladder.update([[2.0, 10]]) is True
    assert ladder.update([[1.9, 5]]) is False  # deeper level
    assert ladder.update([[2.0, 11]]) is True  # best size
    assert ladder.update([[2.0, 0]]) is True  # best removed
    assert ladder.best() == (1.9, 5.0)
    assert ladder.update([[1.9, 0]]) is True  # emptied
    assert ladder.best() is None
    assert ladder.update([[1.5, 0]]) is False  # removing an absent level


def test_off_ladder_prices_are_kept_counted_and_merged_in_order():
    ladder = PriceLadder(descending=True)

    flags = ladder.apply([[2.0, 10], [2.01, 3], [1.995, 4]])

    assert flags >> 1 == 2  # two off-ladder levels
    assert ladder.has_off_ladder
    assert ladder.top(3) == [(2.01, 3.0), (2.0, 10.0), (1.995, 4.0)]
    assert ladder.size_at(2.01) == 3.0
    ladder.update([[2.01, 0], [1.995, 0]])
    assert not ladder.has_off_ladder
    assert ladder.top(3) == [(2.0, 10.0)]


@pytest.mark.parametrize("row", [[1.5, "10"], ["1.5", 10], [1.5], [True, 1.0], [1.5, None]])
def test_malformed_rows_raise_type_or_index_error(row):
    ladder = PriceLadder(descending=False)

    with pytest.raises((TypeError, IndexError)):
        ladder.update([row])


def test_traded_sizes_sum_in_ascending_price_order():
    ladder = PriceLadder(descending=False)

    ladder.update([[3.0, 0.1], [1.5, 0.2], [2.0, 0.7]])

    assert list(ladder.ascending_sizes()) == [0.2, 0.7, 0.1]
    assert ladder.total_size() == 0.2 + 0.7 + 0.1
    ladder.clear()
    assert not ladder
    assert ladder.total_size() == 0.0


def test_position_ladder_replaces_rows_by_position_and_removes_on_zero_size():
    ladder = PositionLadder()

    assert ladder.update([[1, 2.02, 5], [0, 2.04, 3]]) is True
    assert ladder.top(3) == [(2.04, 3.0), (2.02, 5.0)]
    assert ladder.update([[1, 2.0, 9]]) is False  # second row only
    assert ladder.update([[0, 2.04, 0]]) is True
    assert ladder.top(3) == [(2.0, 9.0)]
    with pytest.raises(TypeError):
        ladder.update([[0.5, 2.0, 1]])


_prices = st.sampled_from(LADDER[:40] + LADDER[-5:] + (1.015, 2.01))
_sizes = st.sampled_from([0, 0, 1, 2.5, 10, 100.25])


@settings(max_examples=200, deadline=None)
@given(
    descending=st.booleans(),
    batches=st.lists(st.lists(st.tuples(_prices, _sizes), max_size=6), max_size=12),
    depth=st.integers(1, 6),
)
def test_price_ladder_equals_a_sorted_dict_model(descending, batches, depth):
    ladder = PriceLadder(descending=descending)
    model: dict[float, float] = {}

    for batch in batches:
        ladder.update([list(level) for level in batch])
        for price, size in batch:
            if size:
                model[price] = float(size)
            else:
                model.pop(price, None)

    expected = sorted(model.items(), reverse=descending)
    assert ladder.top(depth) == expected[:depth]
    assert list(ladder.levels()) == expected
    assert ladder.best() == (expected[0] if expected else None)
