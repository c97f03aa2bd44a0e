"""MatchView: the position is built only when a strategy reads it, once, and the view is
read-only."""

import pytest

from engine.strategy import MatchView, PositionView


def _view() -> PositionView:
    return PositionView(market_id="1.1", worst_case_loss=12.5, max_order_stake=10.0)


def test_the_position_source_is_called_on_first_read_only():
    calls: list[int] = []

    def source() -> PositionView:
        calls.append(1)
        return _view()

    match = MatchView("m", "1.1", (1, 2), "0 0 0", position_source=source)

    assert calls == []  # a strategy that never looks costs nothing
    first = match.position
    assert match.position is first
    assert calls == [1]


def test_a_given_position_and_no_position():
    view = _view()

    assert MatchView("m", "1.1", (1, 2), position=view).position is view
    assert MatchView("m", "1.1", (1, 2)).position is None


def test_the_view_is_read_only_and_refuses_two_positions():
    match = MatchView("m", "1.1", (1, 2))

    with pytest.raises(AttributeError, match="read-only"):
        match.score = "1 0 0"
    with pytest.raises(ValueError, match="position"):
        MatchView("m", "1.1", (1, 2), position=_view(), position_source=_view)
