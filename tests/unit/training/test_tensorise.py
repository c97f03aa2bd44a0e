"""Tensorise the aligned sample: shapes, masks, labels, variants, player-disjoint splits."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from engine.features.match import MatchFeatures
from engine.features.schema import BOOK_COLUMNS, STATIC_DIM, TOKEN_DIM, TOKEN_INDEX
from engine.gate.book import implied_mid
from engine.physics.rules import MatchRules
from training.align import align_corpus
from training.splits import player_key
from training.tensorise import group_matches, match_tensors, point_ended, tensorise
from training.tensors import NO_MTO, load_tensors

BOOK_IDX = [TOKEN_INDEX[name] for name in BOOK_COLUMNS]


@pytest.fixture(scope="module")
def built(repo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("tensorise")
    aligned = work / "aligned.parquet"
    align_corpus(repo_root / "data" / "sample", aligned)
    report = tensorise(aligned, work / "tensors", shares=(0.6, 0.2, 0.2))
    rows = pq.read_table(aligned).to_pylist()
    full = load_tensors(work / "tensors" / "emu_full.npz")
    lite = load_tensors(work / "tensors" / "emu_lite.npz")
    return aligned, report, rows, full, lite


def _rows_by_match(rows):
    out: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        out.setdefault(row["match_id"], []).append(row)
    return out


def test_shapes_and_masks_follow_the_rows(built):
    _, report, rows, full, _ = built
    by_match = _rows_by_match(rows)
    n = len(report.match_ids)
    assert full.static.shape == (n, STATIC_DIM)
    assert full.seq.shape == (n, max(len(by_match[m]) for m in report.match_ids), TOKEN_DIM)
    assert full.lengths.tolist() == [len(by_match[m]) for m in report.match_ids]
    assert not full.seq[~full.mask].any()  # padding is zero
    assert (full.pts_since_mto[~full.mask] == NO_MTO).all()


def test_labels_are_the_aligned_market_prob(built):
    _, report, rows, full, _ = built
    by_match = _rows_by_match(rows)
    for i, match_id in enumerate(report.match_ids):
        expected = [r["market_prob"] for r in by_match[match_id]]
        np.testing.assert_allclose(full.y[i, : len(expected)], expected, rtol=1e-6)
        distress = [r["distress"] for r in by_match[match_id]]
        np.testing.assert_array_equal(full.distress[i, : len(expected)], distress)


def test_lite_has_book_columns_exactly_zero_and_the_rest_equal(built):
    _, _, _, full, lite = built
    assert lite.variant == "lite" and full.variant == "full"
    assert not lite.seq[..., BOOK_IDX].any()
    assert full.seq[..., BOOK_IDX][full.mask].any()
    other = [i for i in range(TOKEN_DIM) if i not in BOOK_IDX]
    np.testing.assert_array_equal(lite.seq[..., other], full.seq[..., other])
    np.testing.assert_array_equal(lite.y, full.y)


def test_tokens_are_exactly_what_the_engine_builds(built):
    aligned, _, _, _, _ = built
    rows = group_matches(pq.read_table(aligned))[0]
    tensors = match_tensors(rows)
    assert tensors.seq.shape == (len(rows), TOKEN_DIM)
    # the token's residual is the previous label minus the previous fair price (lagged market)
    residual = tensors.seq[1:, TOKEN_INDEX["residual"]]
    expected = [rows[i]["market_prob"] - rows[i]["fair_prob"] for i in range(len(rows) - 1)]
    np.testing.assert_allclose(residual, expected, atol=1e-6)
    # the first token opens the match: the market before the point and the price at 0-0
    first = rows[0]
    assert first["point_idx"] == 0
    opening = implied_mid(first["best_back"], first["best_lay"])
    assert opening is not None
    assert tensors.seq[0, TOKEN_INDEX["residual"]] == pytest.approx(
        opening - first["fair_before"], abs=1e-6
    )
    assert tensors.seq[0, TOKEN_INDEX["fair_delta"]] == pytest.approx(
        first["fair_prob"] - first["fair_before"], abs=1e-6
    )
    # fair_before chains the fair prices: the previous point's, and 0-0 through the tour slope
    assert [r["fair_before"] for r in rows[1:]] == [r["fair_prob"] for r in rows[:-1]]
    assert 0.0 < first["fair_before"] < 1.0
    # and the same rows fed to a fresh engine-side MatchFeatures give the same first token
    features = MatchFeatures()
    features.on_match_open(first["fair_before"], opening)
    rules = MatchRules(best_of=first["best_of"], final_set=first["final_set"], no_ad=first["no_ad"])
    assert np.array_equal(features.on_point(point_ended(first, rules)), tensors.seq[0])


def test_players_never_cross_splits(built):
    _, report, rows, full, _ = built
    players = {r["match_id"]: (player_key(r["p1"]), player_key(r["p2"])) for r in rows}
    split_of_player: dict[str, set[int]] = {}
    for i, match_id in enumerate(report.match_ids):
        for player in players[match_id]:
            split_of_player.setdefault(player, set()).add(int(full.split[i]))
    assert all(len(s) == 1 for s in split_of_player.values())
    assert report.dropped_for_disjoint_players + len(report.match_ids) == len(players)
    assert sum(report.split_counts.values()) == len(report.match_ids)


def test_single_variant_and_bad_variant(built, tmp_path):
    aligned = built[0]
    report = tensorise(aligned, tmp_path, variants=("lite",))
    assert list(report.files) == ["lite"]
    assert not (tmp_path / "emu_full.npz").exists()
    with pytest.raises(ValueError, match="--variant"):
        tensorise(aligned, tmp_path, variants=("huge",))
