import numpy as np
import pytest

from engine.features import BookSummary, ScoreInputs
from engine.features.match import MatchFeatures, PointEnded
from engine.features.schema import BOOK_COLUMNS, TOKEN_INDEX


def point(winner, p1_points, p2_points, fair, book=None):
    score = ScoreInputs(
        server=1,
        p1_sets=0,
        p2_sets=0,
        p1_games=0,
        p2_games=0,
        p1_points=p1_points,
        p2_points=p2_points,
        in_tiebreak=False,
    )
    return PointEnded(
        server=1,
        winner=winner,
        score_after=score,
        fair_prob=fair,
        fair_if_p1_wins=fair + 0.02,
        fair_if_p1_loses=fair - 0.02,
        book=book,
        serve_no=1,
    )


def col(token, name):
    return float(token[TOKEN_INDEX[name]])


def test_tokens_follow_the_timing_contract():
    features = MatchFeatures()
    first = features.on_point(point(1, 1, 0, 0.60))
    features.on_market_label(0.62)
    second = features.on_point(point(2, 1, 1, 0.57))

    assert col(first, "p1_serve_points") == pytest.approx(0.01)  # includes the point just played
    assert col(first, "residual") == 0.0 and col(first, "fair_delta") == 0.0
    assert col(second, "residual") == pytest.approx(0.62 - 0.60)  # lagged label − lagged fair
    assert col(second, "fair_delta") == pytest.approx(-0.03)
    assert col(second, "last_point_p1") == 0.0 and col(second, "streak") == pytest.approx(-0.1)


def test_residual_needs_the_previous_label():
    features = MatchFeatures()
    features.on_point(point(1, 1, 0, 0.60))
    token = features.on_point(point(1, 2, 0, 0.63))  # no label arrived for the first point
    assert col(token, "residual") == 0.0


def test_mto_points_count_from_zero():
    features = MatchFeatures()
    features.on_point(point(1, 1, 0, 0.6))
    features.on_mto()
    after = [features.on_point(point(1, 1, 0, 0.6)) for _ in range(3)]
    assert [round(col(t, "pts_since_mto") * 99) for t in after] == [0, 1, 2]
    assert all(col(t, "mto_flag") == 1.0 for t in after)


def test_book_deltas_use_the_previous_token_book_and_lite_zeroes_them():
    book_a = BookSummary(back_price=1.8, lay_price=1.82, back_size=100.0, lay_size=80.0)
    book_b = BookSummary(back_price=1.7, lay_price=1.72, back_size=50.0, lay_size=80.0)
    full, lite = MatchFeatures("full"), MatchFeatures("lite")
    for features in (full, lite):
        features.on_point(point(1, 1, 0, 0.6, book_a))
    token = full.on_point(point(1, 2, 0, 0.62, book_b))
    lite_token = lite.on_point(point(1, 2, 0, 0.62, book_b))
    assert col(token, "d_back_size") == pytest.approx((np.log1p(50) - np.log1p(100)) / 10)
    assert all(col(lite_token, name) == 0.0 for name in BOOK_COLUMNS)


def test_bad_point_leaves_the_state_unchanged():
    features = MatchFeatures()
    features.on_point(point(1, 1, 0, 0.6))
    with pytest.raises(ValueError, match="fair_prob"):
        features.on_point(point(1, 2, 0, 1.5))
    assert features.counters.points_played == 1
    with pytest.raises(ValueError, match="market_prob"):
        features.on_market_label(-0.1)


def test_the_match_opening_is_the_first_tokens_previous_price_and_label():
    features = MatchFeatures()
    features.on_match_open(fair_prob=0.58, market_prob=0.55)

    first = features.on_point(point(1, 1, 0, 0.60))

    assert col(first, "fair_delta") == pytest.approx(0.60 - 0.58)
    assert col(first, "residual") == pytest.approx(0.55 - 0.58)


def test_an_opening_without_a_market_price_moves_the_fair_price_only():
    features = MatchFeatures()
    features.on_match_open(fair_prob=0.58, market_prob=None)

    first = features.on_point(point(1, 1, 0, 0.60))

    assert col(first, "fair_delta") == pytest.approx(0.02)
    assert col(first, "residual") == 0.0


def test_the_opening_is_refused_once_points_were_played_or_out_of_range():
    features = MatchFeatures()
    with pytest.raises(ValueError, match="fair_prob"):
        features.on_match_open(fair_prob=1.2, market_prob=0.5)
    with pytest.raises(ValueError, match="market_prob"):
        features.on_match_open(fair_prob=0.5, market_prob=-0.1)
    features.on_point(point(1, 1, 0, 0.60))
    with pytest.raises(ValueError, match="already has points"):
        features.on_match_open(fair_prob=0.5, market_prob=0.5)
