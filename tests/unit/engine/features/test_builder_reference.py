"""The positional token builder against the original name -> value builder, bit for bit.

`engine.features.builders` lays the token out positionally for speed (the engine builds one per
point on its hot path). The shipped emulators were trained on tokens from the ORIGINAL builder,
which filled a name -> value dict and laid it out by TOKEN_COLUMNS; that implementation is kept
here, verbatim, as the slow reference. Every float32 must be identical (compared as bytes, so
even a -0.0 for a 0.0 would fail), on random inputs and on the real sample day as training
aligns it, for both variants, and bad inputs must be refused with the same message.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from engine.features.builders import (
    LOGIT_CLIP,
    MTO_DECAY_POINTS,
    PRIOR_ACE,
    PRIOR_DF,
    PRIOR_FIRST_IN,
    PRIOR_FIRST_WON,
    PRIOR_SECOND_WON,
    PRIOR_SERVE_WON,
    PTS_SINCE_MTO_CAP,
    SHRINK_POINTS,
    build_token,
    token_values,
)
from engine.features.inputs import (
    BookSummary,
    FairInputs,
    MatchCounters,
    PlayerServeCounts,
    PointInputs,
    ScoreInputs,
    update_counters,
)
from engine.features.match import MatchFeatures, PointEnded
from engine.features.schema import (
    BOOK_COLUMNS,
    TOKEN_COLUMNS,
    TOKEN_DIM,
    VARIANT_FULL,
    VARIANT_LITE,
    book_mask,
)
from engine.physics.rules import MatchRules
from training.align import align_corpus
from training.tensorise import _book, group_matches

assert LOGIT_CLIP > 0  # the constants below are the product's, so the reference cannot drift

# ------------------------------------------------------------------ the reference (verbatim)


def _check_prob(name: str, value: float) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name}: must be a probability in [0, 1], got {value!r}")
    return float(value)


def _game_point(mine: int, theirs: int, tiebreak: bool, target: int, no_ad: bool) -> bool:
    if tiebreak:
        return mine >= target - 1 and mine > theirs
    if no_ad and mine == 3 and theirs == 3:
        return True
    return mine >= 3 and mine > theirs


def _score_features(s: ScoreInputs) -> dict[str, float]:
    rules = s.rules
    deciding = rules.is_deciding_set(s.p1_sets, s.p2_sets)
    target = rules.tiebreak_target(deciding)
    tb = s.in_tiebreak
    gp1 = _game_point(s.p1_points, s.p2_points, tb, target, rules.no_ad)
    gp2 = _game_point(s.p2_points, s.p1_points, tb, target, rules.no_ad)
    sp1 = gp1 and (tb or (s.p1_games + 1 >= 6 and s.p1_games + 1 - s.p2_games >= 2))
    sp2 = gp2 and (tb or (s.p2_games + 1 >= 6 and s.p2_games + 1 - s.p1_games >= 2))
    receiver_gp = gp2 if s.server == 1 else gp1
    return {
        "server_is_p1": float(s.server == 1),
        "p1_sets": s.p1_sets / 3.0,
        "p2_sets": s.p2_sets / 3.0,
        "p1_games": s.p1_games / 6.0,
        "p2_games": s.p2_games / 6.0,
        "p1_points": 0.0 if tb else s.p1_points / 4.0,
        "p2_points": 0.0 if tb else s.p2_points / 4.0,
        "p1_tb_points": s.p1_points / 7.0 if tb else 0.0,
        "p2_tb_points": s.p2_points / 7.0 if tb else 0.0,
        "in_tiebreak": float(tb),
        "tiebreak_to_10": float(tb and target == 10),
        "set_no": (s.p1_sets + s.p2_sets + 1) / 5.0,
        "deciding_set": float(deciding),
        "p1_game_point": float(gp1),
        "p2_game_point": float(gp2),
        "break_point": float(receiver_gp),
        "p1_set_point": float(sp1),
        "p2_set_point": float(sp2),
        "p1_match_point": float(sp1 and s.p1_sets == rules.sets_to_win - 1),
        "p2_match_point": float(sp2 and s.p2_sets == rules.sets_to_win - 1),
    }


def _shrunk(hits: int, trials: int, prior: float) -> float:
    return (hits + SHRINK_POINTS * prior) / (trials + SHRINK_POINTS)


def _player_serve(prefix: str, c: PlayerServeCounts) -> dict[str, float]:
    return {
        f"{prefix}_serve_points": c.points / 100.0,
        f"{prefix}_serve_won": _shrunk(c.won, c.points, PRIOR_SERVE_WON),
        f"{prefix}_first_in": _shrunk(c.first_in, c.detail_points, PRIOR_FIRST_IN),
        f"{prefix}_first_won": _shrunk(c.first_won, c.first_in, PRIOR_FIRST_WON),
        f"{prefix}_second_won": _shrunk(c.second_won, c.second_points, PRIOR_SECOND_WON),
        f"{prefix}_ace_rate": _shrunk(c.aces, c.detail_points, PRIOR_ACE),
        f"{prefix}_df_rate": _shrunk(c.double_faults, c.detail_points, PRIOR_DF),
    }


def _serve_features(c: MatchCounters) -> dict[str, float]:
    last = {0: 0.5, 1: 1.0, 2: 0.0}[c.last_winner]
    return {
        **_player_serve("p1", c.p1),
        **_player_serve("p2", c.p2),
        "serve_detail_known": float(c.p1.detail_points + c.p2.detail_points > 0),
        "p1_points_won_share": (c.p1_points_won / c.points_played if c.points_played else 0.5),
        "p1_recent_share": c.p1_recent_share,
        "last_point_p1": last,
        "streak": max(-1.0, min(1.0, c.streak / 10.0)),
    }


def _boundary_features(s: ScoreInputs) -> dict[str, float]:
    new_game = s.p1_points == 0 and s.p2_points == 0
    games = s.p1_games + s.p2_games
    return {
        "new_game": float(new_game),
        "changeover": float(new_game and games % 2 == 1),
        "set_break": float(new_game and games == 0 and s.p1_sets + s.p2_sets > 0),
    }


def _mto_features(pts_since_mto: int | None) -> dict[str, float]:
    if pts_since_mto is None:
        return {"mto_flag": 0.0, "pts_since_mto": 1.0, "exp_decay_mto": 0.0}
    if pts_since_mto < 0:
        raise ValueError(f"pts_since_mto: must be >= 0, got {pts_since_mto!r}")
    capped = min(pts_since_mto, PTS_SINCE_MTO_CAP)
    return {
        "mto_flag": 1.0,
        "pts_since_mto": capped / PTS_SINCE_MTO_CAP,
        "exp_decay_mto": math.exp(-capped / MTO_DECAY_POINTS),
    }


def _fair_features(f: FairInputs) -> dict[str, float]:
    fair = _check_prob("fair_prob", f.fair_prob)
    prev = fair if f.prev_fair_prob is None else _check_prob("prev_fair_prob", f.prev_fair_prob)
    win = _check_prob("fair_if_p1_wins", f.fair_if_p1_wins)
    lose = _check_prob("fair_if_p1_loses", f.fair_if_p1_loses)
    return {"fair_prob": fair, "fair_delta": fair - prev, "fair_leverage": win - lose}


def _inv(price: float | None) -> float:
    if price is None:
        return 0.0
    if not (math.isfinite(price) and price >= 1.0):
        raise ValueError(f"price: must be decimal odds >= 1, got {price!r}")
    return 1.0 / price


def _log_size(size: float) -> float:
    if not (math.isfinite(size) and size >= 0.0):
        raise ValueError(f"size: must be a non-negative amount, got {size!r}")
    return math.log1p(size) / 10.0


def _mid_prob(b: BookSummary) -> float:
    back, lay = _inv(b.back_price), _inv(b.lay_price)
    if back and lay:
        return 0.5 * (back + lay)
    return back or lay


def _book_features(book: BookSummary | None, prev: BookSummary | None) -> dict[str, float]:
    if book is None:
        return dict.fromkeys(BOOK_COLUMNS, 0.0)
    back, p2_back = _inv(book.back_price), _inv(book.p2_back_price)
    back_depth, lay_depth = _log_size(book.back_depth), _log_size(book.lay_depth)
    total = book.back_depth + book.lay_depth
    back_size, lay_size = _log_size(book.back_size), _log_size(book.lay_size)
    if prev is None:
        d_back = d_lay = d_mid = d_traded = 0.0
    else:
        d_back = back_size - _log_size(prev.back_size)
        d_lay = lay_size - _log_size(prev.lay_size)
        d_mid = _mid_prob(book) - _mid_prob(prev)
        d_traded = _log_size(max(0.0, book.traded - prev.traded))
    return {
        "back_prob": back,
        "lay_prob": _inv(book.lay_price),
        "spread_ticks": min(max(book.spread_ticks, 0) / 10.0, 1.0),
        "back_size": back_size,
        "lay_size": lay_size,
        "back_prob_50": _inv(book.back_price_50),
        "lay_prob_50": _inv(book.lay_price_50),
        "back_depth": back_depth,
        "lay_depth": lay_depth,
        "imbalance": (book.back_depth - book.lay_depth) / total if total > 0 else 0.0,
        "d_back_size": d_back,
        "d_lay_size": d_lay,
        "d_mid_prob": d_mid,
        "ltp_prob": _inv(book.ltp),
        "d_traded": d_traded,
        "p2_back_prob": p2_back,
        "p2_lay_prob": _inv(book.p2_lay_price),
        "overround": back + p2_back - 1.0 if back and p2_back else 0.0,
        "suspended": float(book.suspended),
        "liq_collapse": float(book.liq_collapse),
    }


def _residual(inputs: PointInputs) -> dict[str, float]:
    if inputs.prev_market_prob is None or inputs.fair.prev_fair_prob is None:
        return {"residual": 0.0}
    market = _check_prob("prev_market_prob", inputs.prev_market_prob)
    return {"residual": market - _check_prob("prev_fair_prob", inputs.fair.prev_fair_prob)}


def reference_values(inputs: PointInputs) -> dict[str, float]:
    return {
        **_score_features(inputs.score),
        **_serve_features(inputs.counters),
        **_boundary_features(inputs.score),
        **_mto_features(inputs.pts_since_mto),
        **_fair_features(inputs.fair),
        **_book_features(inputs.book, inputs.prev_book),
        **_residual(inputs),
    }


def reference_token(inputs: PointInputs, variant: str = VARIANT_FULL) -> np.ndarray:
    values = reference_values(inputs)
    assert len(values) == TOKEN_DIM
    target = np.empty(TOKEN_DIM, dtype=np.float32)
    target[:] = [values[name] for name in TOKEN_COLUMNS]
    if variant == VARIANT_LITE:
        target[book_mask()] = 0.0
    return target


# ------------------------------------------------------------------ random inputs


def _maybe(rng: random.Random, value: Any, none_share: float = 0.2) -> Any:
    return None if rng.random() < none_share else value


def _price(rng: random.Random) -> float:
    return rng.choice([1.01, 1.5, 2.0, 3.35, 1000.0, round(rng.uniform(1.0, 30.0), 2)])


def _size(rng: random.Random) -> float:
    return rng.choice([0.0, 2.0, round(rng.uniform(0.0, 5_000.0), 2), rng.uniform(0.0, 1e6)])


def random_book(rng: random.Random) -> BookSummary:
    return BookSummary(
        back_price=_maybe(rng, _price(rng)),
        lay_price=_maybe(rng, _price(rng)),
        back_size=_size(rng),
        lay_size=_size(rng),
        back_price_50=_maybe(rng, _price(rng)),
        lay_price_50=_maybe(rng, _price(rng)),
        back_depth=_size(rng),
        lay_depth=_size(rng),
        ltp=_maybe(rng, _price(rng)),
        traded=rng.choice([0.0, rng.uniform(0.0, 1e7)]),
        p2_back_price=_maybe(rng, _price(rng)),
        p2_lay_price=_maybe(rng, _price(rng)),
        spread_ticks=rng.randint(-3, 40),
        suspended=rng.random() < 0.1,
        liq_collapse=rng.random() < 0.1,
    )


def random_score(rng: random.Random) -> ScoreInputs:
    rules = MatchRules(
        best_of=rng.choice([3, 5]),
        final_set=rng.choice(["adv", "tb7@6", "tb7@12", "tb10@6"]),
        no_ad=rng.random() < 0.2,
    )
    last = rules.sets_to_win - 1
    tiebreak = rng.random() < 0.2
    top = 14 if tiebreak else 5
    return ScoreInputs(
        server=rng.choice([1, 2]),
        p1_sets=rng.randint(0, last),
        p2_sets=rng.randint(0, last),
        p1_games=rng.randint(0, 13),
        p2_games=rng.randint(0, 13),
        p1_points=rng.randint(0, top),
        p2_points=rng.randint(0, top),
        in_tiebreak=tiebreak,
        rules=rules,
    )


def random_counters(rng: random.Random) -> MatchCounters:
    counters = MatchCounters()
    for _ in range(rng.choice([0, 1, 2, 7, 60, 250])):
        counters = update_counters(
            counters,
            server=rng.choice([1, 2]),
            winner=rng.choice([1, 2]),
            serve_no=rng.choice([None, 1, 2]),
            ace=rng.random() < 0.08,
            double_fault=rng.random() < 0.05,
        )
    return counters


def _prob(rng: random.Random) -> float:
    return rng.choice([0.0, 1.0, 0.5, rng.random(), rng.random() ** 8])


def random_inputs(rng: random.Random) -> PointInputs:
    return PointInputs(
        score=random_score(rng),
        counters=random_counters(rng),
        fair=FairInputs(
            fair_prob=_prob(rng),
            prev_fair_prob=_maybe(rng, _prob(rng)),
            fair_if_p1_wins=_prob(rng),
            fair_if_p1_loses=_prob(rng),
        ),
        pts_since_mto=_maybe(rng, rng.choice([0, 1, 5, 98, 99, 100, 400]), 0.5),
        book=_maybe(rng, random_book(rng)),
        prev_book=_maybe(rng, random_book(rng), 0.3),
        prev_market_prob=_maybe(rng, _prob(rng), 0.3),
    )


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype == np.float32 and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("variant", [VARIANT_FULL, VARIANT_LITE])
def test_random_tokens_are_bit_identical_to_the_reference(variant):
    rng = random.Random(20261122)
    for _ in range(3_000):
        inputs = random_inputs(rng)
        assert _same_bits(build_token(inputs, variant), reference_token(inputs, variant)), inputs


def test_named_values_are_the_reference_doubles():
    rng = random.Random(7)
    for _ in range(500):
        inputs = random_inputs(rng)
        fast, slow = token_values(inputs), reference_values(inputs)
        assert list(fast) == list(TOKEN_COLUMNS)
        assert all(fast[n] == slow[n] and type(fast[n]) is type(slow[n]) for n in TOKEN_COLUMNS)


BAD = [
    {"fair": FairInputs(float("nan"), None, 0.5, 0.5)},
    {"fair": FairInputs(0.5, 1.5, 0.5, 0.5)},
    {"fair": FairInputs(0.5, 0.5, -0.1, 0.5)},
    {"fair": FairInputs(0.5, 0.5, 0.5, float("inf"))},
    {"pts_since_mto": -1},
    {"book": BookSummary(back_price=0.5, lay_price=2.0)},
    {"book": BookSummary(back_price=2.0, lay_price=float("nan"))},
    {"book": BookSummary(back_price=2.0, lay_price=2.1, back_size=-1.0)},
    {"book": BookSummary(2.0, 2.1, lay_depth=float("inf"))},
    {"book": BookSummary(2.0, 2.1, ltp=0.9)},
    {"book": BookSummary(2.0, 2.1), "prev_book": BookSummary(2.0, 2.1, lay_size=-2.0)},
    {"prev_market_prob": 1.2, "fair": FairInputs(0.5, 0.4, 0.6, 0.4)},
]


@pytest.mark.parametrize("bad", BAD)
def test_bad_inputs_are_refused_with_the_reference_message(bad):
    rng = random.Random(3)
    fields: dict[str, Any] = {
        "score": random_score(rng),
        "counters": MatchCounters(),
        "fair": FairInputs(0.5, 0.5, 0.6, 0.4),
        **bad,
    }
    inputs = PointInputs(**fields)
    with pytest.raises(ValueError) as slow:
        reference_token(inputs)
    with pytest.raises(ValueError) as fast:
        build_token(inputs)
    assert str(fast.value) == str(slow.value)


# ------------------------------------------------------------------ the real sample day


def reference_match_tokens(rows: list[dict[str, Any]], variant: str) -> np.ndarray:
    """The original MatchFeatures timing contract, with the reference builder."""
    rules = MatchRules(
        best_of=int(rows[0]["best_of"]),
        final_set=rows[0]["final_set"],
        no_ad=bool(rows[0]["no_ad"]),
    )
    counters = MatchCounters()
    prev_book = prev_fair = prev_market = None
    mto: int | None = None
    out = np.zeros((len(rows), TOKEN_DIM), dtype=np.float32)
    for i, row in enumerate(rows):
        if row["mto_before"]:
            mto = 0
        counters = update_counters(counters, server=int(row["server"]), winner=int(row["winner"]))
        book = _book(row)
        inputs = PointInputs(
            score=ScoreInputs(
                server=int(row["next_server"]),
                p1_sets=int(row["p1_sets"]),
                p2_sets=int(row["p2_sets"]),
                p1_games=int(row["p1_games"]),
                p2_games=int(row["p2_games"]),
                p1_points=int(row["p1_points"]),
                p2_points=int(row["p2_points"]),
                in_tiebreak=bool(row["in_tiebreak"]),
                rules=rules,
            ),
            counters=counters,
            fair=FairInputs(
                float(row["fair_prob"]),
                prev_fair,
                float(row["fair_if_p1_wins"]),
                float(row["fair_if_p1_loses"]),
            ),
            pts_since_mto=mto,
            book=book,
            prev_book=prev_book,
            prev_market_prob=prev_market,
        )
        out[i] = reference_token(inputs, variant)
        prev_fair, prev_book, prev_market = float(row["fair_prob"]), book, float(row["market_prob"])
        if mto is not None:
            mto += 1
    return out


@pytest.fixture(scope="module")
def sample_matches(repo_root, tmp_path_factory):
    aligned = tmp_path_factory.mktemp("aligned") / "aligned.parquet"
    align_corpus(repo_root / "data" / "sample", aligned)
    return group_matches(pq.read_table(aligned))


@pytest.mark.parametrize("variant", [VARIANT_FULL, VARIANT_LITE])
def test_sample_day_tokens_are_bit_identical_to_the_reference(sample_matches, variant):
    points = 0
    for rows in sample_matches:
        features = MatchFeatures(variant)
        fast = np.zeros((len(rows), TOKEN_DIM), dtype=np.float32)
        for i, row in enumerate(rows):
            if row["mto_before"]:
                features.on_mto()
            score = ScoreInputs(
                server=int(row["next_server"]),
                p1_sets=int(row["p1_sets"]),
                p2_sets=int(row["p2_sets"]),
                p1_games=int(row["p1_games"]),
                p2_games=int(row["p2_games"]),
                p1_points=int(row["p1_points"]),
                p2_points=int(row["p2_points"]),
                in_tiebreak=bool(row["in_tiebreak"]),
                rules=MatchRules(
                    best_of=int(row["best_of"]),
                    final_set=row["final_set"],
                    no_ad=bool(row["no_ad"]),
                ),
            )
            point = PointEnded(
                int(row["server"]),
                int(row["winner"]),
                score,
                float(row["fair_prob"]),
                float(row["fair_if_p1_wins"]),
                float(row["fair_if_p1_loses"]),
                _book(row),
            )
            features.on_point(point, out=fast[i])
            features.on_market_label(float(row["market_prob"]))
        assert fast.tobytes() == reference_match_tokens(rows, variant).tobytes()
        points += len(rows)
    assert points > 500  # the sample day really was compared
