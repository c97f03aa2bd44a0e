import math
from typing import Any

import numpy as np
import pytest

from engine.features import (
    BOOK_COLUMNS,
    TOKEN_COLUMNS,
    TOKEN_DIM,
    BookSummary,
    FairInputs,
    MatchCounters,
    PointInputs,
    ScoreInputs,
    apply_variant,
    build_static,
    build_token,
    price_for_stake,
    token_values,
    update_counters,
)
from engine.features.schema import TOKEN_INDEX
from engine.physics.rules import MatchRules

FAIR = FairInputs(fair_prob=0.6, prev_fair_prob=0.55, fair_if_p1_wins=0.64, fair_if_p1_loses=0.57)


def score(**kw):
    base: dict[str, Any] = dict(
        server=1,
        p1_sets=0,
        p2_sets=0,
        p1_games=0,
        p2_games=0,
        p1_points=0,
        p2_points=0,
        in_tiebreak=False,
    )
    base.update(kw)
    return ScoreInputs(**base)


def values(**kw):
    inputs = PointInputs(
        score=kw.pop("score", score()),
        counters=kw.pop("counters", MatchCounters()),
        fair=kw.pop("fair", FAIR),
        **kw,
    )
    return token_values(inputs)


BOOK = BookSummary(
    back_price=1.6,
    lay_price=1.62,
    back_size=200.0,
    lay_size=50.0,
    back_price_50=1.6,
    lay_price_50=1.63,
    back_depth=900.0,
    lay_depth=300.0,
    ltp=1.61,
    traded=10_000.0,
    p2_back_price=2.6,
    p2_lay_price=2.66,
    spread_ticks=1,
)


def test_static_vector_values():
    out = build_static(0.5, 5, "Clay")
    assert out.dtype == np.float32
    assert out.tolist() == [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


def test_static_logit_is_clipped_at_certainty():
    assert build_static(1.0, 3, "grass")[0] == pytest.approx(6.0, abs=1e-5)
    assert build_static(0.0, 3, "hard")[0] == pytest.approx(-6.0, abs=1e-5)


@pytest.mark.parametrize(
    ("args", "field"),
    [((0.5, 4, "hard"), "best_of"), ((0.5, 3, "sand"), "surface"), ((1.5, 3, "hard"), "pre_match")],
)
def test_static_refuses_bad_input_naming_the_field(args, field):
    with pytest.raises(ValueError, match=field):
        build_static(*args)


def test_token_is_float32_in_schema_order():
    inputs = PointInputs(score=score(), counters=MatchCounters(), fair=FAIR, book=BOOK)
    token = build_token(inputs)
    named = token_values(inputs)
    assert token.shape == (TOKEN_DIM,) and token.dtype == np.float32
    assert list(named) != [] and set(named) == set(TOKEN_COLUMNS)
    assert token.tolist() == pytest.approx([named[c] for c in TOKEN_COLUMNS], abs=1e-6)


def test_lite_variant_zeroes_only_book_columns():
    inputs = PointInputs(score=score(), counters=MatchCounters(), fair=FAIR, book=BOOK)
    full = build_token(inputs, "full")
    lite = build_token(inputs, "lite")
    for name in TOKEN_COLUMNS:
        i = TOKEN_INDEX[name]
        expected = 0.0 if name in BOOK_COLUMNS else full[i]
        assert lite[i] == expected
    assert full[TOKEN_INDEX["back_prob"]] == pytest.approx(1 / 1.6)


def test_apply_variant_works_on_batches_and_refuses_unknown():
    batch = np.ones((2, 3, TOKEN_DIM), dtype=np.float32)
    apply_variant(batch, "lite")
    assert batch[..., TOKEN_INDEX["back_prob"]].sum() == 0.0
    assert batch[..., TOKEN_INDEX["fair_prob"]].sum() == 6.0
    with pytest.raises(ValueError, match="variant"):
        apply_variant(batch, "medium")


def test_build_token_fills_out_in_place():
    out = np.full(TOKEN_DIM, -1.0, dtype=np.float32)
    result = build_token(PointInputs(score=score(), counters=MatchCounters(), fair=FAIR), out=out)
    assert result is out
    assert out[TOKEN_INDEX["fair_prob"]] == pytest.approx(0.6)


def test_break_point_and_game_points():
    v = values(score=score(server=1, p1_points=2, p2_points=3))  # 30-40
    assert (v["break_point"], v["p2_game_point"], v["p1_game_point"]) == (1.0, 1.0, 0.0)
    deuce = values(score=score(p1_points=3, p2_points=3))
    assert (deuce["p1_game_point"], deuce["p2_game_point"]) == (0.0, 0.0)
    no_ad = values(score=score(p1_points=3, p2_points=3, rules=MatchRules(no_ad=True)))
    assert (no_ad["p1_game_point"], no_ad["p2_game_point"]) == (1.0, 1.0)


def test_set_and_match_points():
    set_point = values(score=score(p1_games=5, p2_games=4, p1_points=3, p2_points=1))
    assert (set_point["p1_set_point"], set_point["p1_match_point"]) == (1.0, 0.0)
    not_yet = values(score=score(p1_games=5, p2_games=5, p1_points=3, p2_points=1))
    assert not_yet["p1_set_point"] == 0.0
    match_point = values(score=score(p1_sets=1, p1_games=5, p2_games=3, p1_points=3, p2_points=0))
    assert match_point["p1_match_point"] == 1.0
    best_of_5 = values(
        score=score(p1_sets=1, p1_games=5, p2_games=3, p1_points=3, rules=MatchRules(best_of=5))
    )
    assert (best_of_5["p1_set_point"], best_of_5["p1_match_point"]) == (1.0, 0.0)


def test_ten_point_deciding_tiebreak():
    rules = MatchRules(best_of=3, final_set="tb10@6")
    common = dict(p1_sets=1, p2_sets=1, p1_games=6, p2_games=6, in_tiebreak=True, rules=rules)
    at_8_8 = values(score=score(p1_points=8, p2_points=8, **common))
    at_9_8 = values(score=score(p1_points=9, p2_points=8, **common))
    assert at_8_8["tiebreak_to_10"] == 1.0 and at_8_8["p1_match_point"] == 0.0
    assert at_9_8["p1_match_point"] == 1.0
    assert at_9_8["p1_tb_points"] == pytest.approx(9 / 7) and at_9_8["p1_points"] == 0.0


def test_boundary_flags():
    changeover = values(score=score(p1_games=2, p2_games=1))
    assert (changeover["new_game"], changeover["changeover"]) == (1.0, 1.0)
    set_break = values(score=score(p1_sets=1))
    assert set_break["set_break"] == 1.0
    mid_game = values(score=score(p1_games=2, p2_games=1, p1_points=1))
    assert (mid_game["new_game"], mid_game["changeover"]) == (0.0, 0.0)


def test_mto_regime():
    none = values()
    assert (none["mto_flag"], none["pts_since_mto"], none["exp_decay_mto"]) == (0.0, 1.0, 0.0)
    fresh = values(pts_since_mto=0)
    assert (fresh["mto_flag"], fresh["pts_since_mto"], fresh["exp_decay_mto"]) == (1.0, 0.0, 1.0)
    later = values(pts_since_mto=5)
    assert later["exp_decay_mto"] == pytest.approx(math.exp(-0.5))
    capped = values(pts_since_mto=250)
    assert capped["pts_since_mto"] == 1.0
    assert capped["exp_decay_mto"] == pytest.approx(math.exp(-9.9))


def test_counters_track_serve_and_momentum():
    c = MatchCounters()
    c = update_counters(c, server=1, winner=1, serve_no=1, ace=True)
    c = update_counters(c, server=1, winner=2, serve_no=2, double_fault=True)
    c = update_counters(c, server=1, winner=2, serve_no=2)
    assert (c.p1.points, c.p1.won, c.p1.first_in, c.p1.second_points) == (3, 1, 1, 2)
    assert (c.p1.aces, c.p1.double_faults, c.p2.points) == (1, 1, 0)
    assert c.streak == -2 and c.last_winner == 2
    v = values(counters=c)
    assert v["p1_serve_won"] == pytest.approx((1 + 10 * 0.62) / 13)
    assert v["p1_points_won_share"] == pytest.approx(1 / 3)
    assert v["streak"] == pytest.approx(-0.2)
    assert v["p1_recent_share"] == pytest.approx(0.5 * 0.8**3 + 0.2 * 0.8**2)
    assert v["serve_detail_known"] == 1.0


def test_counters_refuse_bad_values():
    with pytest.raises(ValueError, match="winner"):
        update_counters(MatchCounters(), server=1, winner=3)
    with pytest.raises(ValueError, match="serve_no"):
        update_counters(MatchCounters(), server=1, winner=1, serve_no=3)


def test_book_features_and_deltas():
    prev = BookSummary(
        back_price=1.7, lay_price=1.72, back_size=100.0, lay_size=50.0, traded=9000.0
    )
    v = values(book=BOOK, prev_book=prev)
    assert v["imbalance"] == pytest.approx((900 - 300) / 1200)
    assert v["overround"] == pytest.approx(1 / 1.6 + 1 / 2.6 - 1)
    assert v["d_back_size"] == pytest.approx((math.log1p(200) - math.log1p(100)) / 10)
    assert v["d_lay_size"] == 0.0
    mid_now = 0.5 * (1 / 1.6 + 1 / 1.62)
    mid_prev = 0.5 * (1 / 1.7 + 1 / 1.72)
    assert v["d_mid_prob"] == pytest.approx(mid_now - mid_prev)
    assert v["d_traded"] == pytest.approx(math.log1p(1000) / 10)
    first = values(book=BOOK)
    assert first["d_mid_prob"] == first["d_traded"] == 0.0
    empty = values()
    assert all(empty[name] == 0.0 for name in BOOK_COLUMNS)


def test_residual_is_lagged_market_minus_lagged_fair():
    assert values(prev_market_prob=0.6)["residual"] == pytest.approx(0.6 - 0.55)
    assert values()["residual"] == 0.0
    fair = values()
    assert fair["fair_delta"] == pytest.approx(0.05)
    assert fair["fair_leverage"] == pytest.approx(0.07)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"fair": FairInputs(float("nan"), None, 0.5, 0.5)}, "fair_prob"),
        ({"prev_market_prob": 1.2}, "prev_market_prob"),
        ({"pts_since_mto": -1}, "pts_since_mto"),
        ({"book": BookSummary(back_price=0.5, lay_price=None)}, "price"),
    ],
)
def test_bad_inputs_are_refused_with_field_name(kw, field):
    with pytest.raises(ValueError, match=field):
        values(**kw)


def test_score_inputs_validate():
    with pytest.raises(ValueError, match="server"):
        score(server=0)
    with pytest.raises(ValueError, match="p1_games"):
        score(p1_games=-1)
    with pytest.raises(ValueError, match="over"):
        score(p1_sets=2)


def test_price_for_stake_is_volume_weighted():
    assert price_for_stake([(2.0, 30.0), (2.02, 100.0)], 50.0) == pytest.approx(2.008)
    assert price_for_stake([(2.0, 30.0)], 50.0) is None
    assert price_for_stake([(2.0, 0.0), (2.1, 60.0)], 50.0) == pytest.approx(2.1)
    with pytest.raises(ValueError, match="stake"):
        price_for_stake([(2.0, 30.0)], 0.0)
