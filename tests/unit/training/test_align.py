"""Align on the committed sample day (data/sample): rows, labels, a hand-computed label, bytes."""

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from engine.features.inputs import price_for_stake
from training.align import COLUMN_NAMES, align_corpus, read_aligned, read_index


@pytest.fixture(scope="module")
def sample(repo_root):
    return repo_root / "data" / "sample"


@pytest.fixture(scope="module")
def aligned(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("align") / "aligned.parquet"
    report = align_corpus(sample, out)
    return out, report, pq.read_table(out).to_pylist()


def test_one_row_per_point_except_the_match_winning_one(sample, aligned):
    _, report, rows = aligned
    index = [json.loads(line) for line in (sample / "matches.jsonl").read_text().splitlines()]
    expected = {}
    for entry in index:
        info = json.loads((sample / entry["match"]).read_text())
        expected[entry["match_id"]] = entry["n_points"] - (0 if info["retired"] else 1)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["match_id"]] = counts.get(row["match_id"], 0) + 1
    assert counts == expected
    assert report.rows == sum(expected.values()) and report.skipped == {}


def test_rows_are_in_match_then_point_order(aligned):
    _, _, rows = aligned
    keys = [(r["match_id"], r["point_idx"]) for r in rows]
    assert keys == sorted(keys)
    first = [r["point_idx"] for r in rows if r["match_id"] == rows[0]["match_id"]]
    assert first == list(range(len(first)))


def test_labels_are_probabilities_and_columns_complete(aligned):
    path, _, rows = aligned
    assert tuple(read_aligned(path).column_names) == COLUMN_NAMES
    for row in rows:
        assert 0.0 < row["market_prob"] < 1.0
        assert 0.0 < row["fair_prob"] < 1.0
        assert row["distress"] in (0, 1)
        assert row["label_ts"] > row["ts"]


def test_fair_price_moves_with_the_points(aligned):
    _, _, rows = aligned
    for row in rows[:50]:
        assert row["fair_if_p1_loses"] <= row["fair_prob"] <= row["fair_if_p1_wins"]


def _hand_book(stream: Path, runner_id: int, until_ms: float):
    """Replay the stream with plain dicts: the runner's back/lay ladders as of `until_ms`."""
    atb: dict[float, float] = {}
    atl: dict[float, float] = {}
    with gzip.open(stream, "rt") as fh:
        for line in fh:
            msg = json.loads(line)
            if msg.get("op") != "mcm" or msg["pt"] > until_ms:
                if msg.get("op") == "mcm" and msg["pt"] > until_ms:
                    break
                continue
            for mc in msg.get("mc", []):
                if mc.get("img"):
                    atb.clear()
                    atl.clear()
                for rc in mc.get("rc", []):
                    if rc["id"] != runner_id:
                        continue
                    for side, ladder in (("atb", atb), ("atl", atl)):
                        for price, size in rc.get(side, []):
                            if size == 0:
                                ladder.pop(price, None)
                            else:
                                ladder[price] = size
    backs = sorted(atb.items(), reverse=True)
    lays = sorted(atl.items())
    return backs, lays


@pytest.mark.parametrize("point", [0, 37, 120])
def test_market_prob_equals_a_hand_computation_from_the_book(sample, aligned, point):
    _, _, rows = aligned
    entry = read_index(sample)[0]
    row = [r for r in rows if r["match_id"] == entry.match_id][point]
    info = json.loads(entry.match.read_text())
    backs, lays = _hand_book(entry.stream, info["selection_ids"][0], row["label_ts"] * 1000)
    back50 = price_for_stake(backs, 50.0)
    lay50 = price_for_stake(lays, 50.0)
    assert back50 is not None and lay50 is not None
    assert row["price_for_50"] == pytest.approx(back50)
    assert row["lay_price_for_50"] == pytest.approx(lay50)
    assert row["market_prob"] == pytest.approx(0.5 * (1 / back50 + 1 / lay50), abs=1e-12)


def test_book_columns_are_the_book_at_the_points_time(sample, aligned):
    _, _, rows = aligned
    entry = read_index(sample)[0]
    row = [r for r in rows if r["match_id"] == entry.match_id][10]
    info = json.loads(entry.match.read_text())
    backs, lays = _hand_book(entry.stream, info["selection_ids"][0], row["ts"] * 1000)
    assert row["best_back"] == backs[0][0] and row["best_lay"] == lays[0][0]
    assert row["cum_size_back3"] == pytest.approx(sum(s for _, s in backs[:3]))


def test_parquet_bytes_are_deterministic(sample, aligned, tmp_path):
    path, _, _ = aligned
    again = tmp_path / "again.parquet"
    align_corpus(sample, again, workers=2)
    assert again.read_bytes() == path.read_bytes()
    metadata = pq.read_metadata(path)
    assert metadata.schema.to_arrow_schema().metadata[b"courtside.align_version"] == b"1"


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"matches\.jsonl"):
        align_corpus(tmp_path, tmp_path / "x.parquet")


def test_bad_index_line_names_the_line(tmp_path):
    (tmp_path / "matches.jsonl").write_text('{"match_id": "a"}\n')
    with pytest.raises(ValueError, match=r"matches\.jsonl:1"):
        read_index(tmp_path)


def test_a_broken_match_is_skipped_and_reported(sample, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = (sample / "matches.jsonl").read_text().splitlines()
    good = json.loads(lines[0])
    for key in ("ticks", "stream", "match"):
        good[key] = str(sample / good[key])
    broken = dict(good, match_id="zz-broken", ticks=str(tmp_path / "missing.jsonl"))
    (corpus / "matches.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(broken) + "\n")
    report = align_corpus(corpus, tmp_path / "out.parquet")
    assert report.matches == 1
    assert list(report.skipped) == ["zz-broken"]
