"""Positions: P&L by outcome, worst-case exposure, commission on net market winnings."""

import pytest

from engine.execution.positions import OutcomeBook, PositionBook, settle_outcomes
from engine.execution.types import Side


def test_back_and_lay_pnl_by_winner():
    book = OutcomeBook()
    book.add_matched(1, Side.BACK, 3.0, 10.0)  # +20 if 1 wins, -10 otherwise
    book.add_matched(2, Side.LAY, 4.0, 5.0)  # -15 if 2 wins, +5 otherwise
    assert book.pnl_if(1) == pytest.approx(20 + 5)
    assert book.pnl_if(2) == pytest.approx(-10 - 15)
    assert book.pnl_if(None) == pytest.approx(-10 + 5)
    assert book.worst_case((1, 2)) == pytest.approx(25.0)


def test_hedged_position_has_no_worst_case_loss():
    book = OutcomeBook()
    book.add_matched(1, Side.BACK, 3.0, 10.0)
    book.add_matched(1, Side.LAY, 2.5, 10.0)
    assert book.pnl_if(1) == pytest.approx(5.0)
    assert book.pnl_if(2) == pytest.approx(0.0)
    assert book.worst_case((1, 2)) == 0.0
    assert book.selection_worst_case(1) == 0.0


def test_unknown_runners_include_someone_else_winning():
    book = OutcomeBook()
    book.add_matched(1, Side.BACK, 2.0, 10.0)
    book.add_matched(2, Side.BACK, 2.0, 10.0)
    assert book.worst_case((1, 2)) == 0.0  # a 2-runner market: one of them wins
    assert book.worst_case() == 20.0  # runners unknown: a third could win


def test_unmatched_orders_count_only_their_losing_side():
    book = OutcomeBook()
    book.add_unmatched_worst(1, Side.LAY, 5.0, 10.0)  # liability 40, no credit for +10
    assert book.worst_case((1, 2)) == 40.0
    assert book.pnl_if(2) == 0.0
    book.add_unmatched_worst(2, Side.BACK, 3.0, 10.0)
    assert book.worst_case((1, 2)) == 50.0


def test_commission_is_charged_on_net_market_winnings_only():
    book = OutcomeBook()
    book.add_matched(1, Side.BACK, 3.0, 10.0)  # +20 if 1 wins
    book.add_matched(2, Side.BACK, 2.0, 5.0)  # -5 if 1 wins
    won = settle_outcomes(book, "1.1", 1, 0.05)
    assert (won.gross, won.commission, won.net) == (15.0, 0.75, 14.25)
    lost = settle_outcomes(book, "1.1", 2, 0.05)
    assert (lost.gross, lost.commission) == (-10 + 5, 0.0)


def test_position_book_settles_and_accumulates_realised():
    positions = PositionBook()
    positions.describe_market("1.1", (1, 2), "e1")
    positions.add_fill("1.1", 1, Side.BACK, 2.0, 10.0)
    assert positions.market("1.1").worst_case_loss() == 10.0
    settlement = positions.settle("1.1", 1, 0.05)
    assert settlement.net == pytest.approx(9.5)
    assert positions.realised() == pytest.approx(9.5)
    assert "1.1" not in positions.markets
