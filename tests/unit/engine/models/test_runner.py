import json
import shutil

import numpy as np
import pytest

from engine.features.schema import STATIC_DIM, TOKEN_DIM
from engine.models.metadata import SchemaMismatchError
from engine.models.runner import GRUMatchState, KVMatchState, load_emulator

KINDS = ["gru", "transformer"]


def _match(seed, points=15):
    rng = np.random.default_rng(seed)
    static = rng.normal(size=STATIC_DIM).astype(np.float32)
    tokens = rng.normal(size=(points, TOKEN_DIM)).astype(np.float32)
    return static, tokens


def _run_alone(runner, static, tokens):
    state = runner.new_state()
    runner.reset(state, static)
    return [runner.step(state, t) for t in tokens]


@pytest.mark.parametrize("kind", KINDS)
def test_load_gives_the_right_state_kind(exported, kind):
    runner = load_emulator(exported[kind])
    assert runner.metadata is not None and runner.metadata.kind == kind
    expected = GRUMatchState if kind == "gru" else KVMatchState
    assert isinstance(runner.new_state(), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_interleaved_matches_equal_each_run_alone(exported, kind):
    runner = load_emulator(exported[kind])
    static_a, tokens_a = _match(1)
    static_b, tokens_b = _match(2, points=11)
    alone_a = _run_alone(runner, static_a, tokens_a)
    alone_b = _run_alone(runner, static_b, tokens_b)

    state_a, state_b = runner.new_state(), runner.new_state()
    runner.reset(state_a, static_a)
    runner.reset(state_b, static_b)
    mixed_a, mixed_b = [], []
    for i in range(len(tokens_a)):
        mixed_a.append(runner.step(state_a, tokens_a[i]))
        if i < len(tokens_b):
            mixed_b.append(runner.step(state_b, tokens_b[i]))

    assert mixed_a == alone_a
    assert mixed_b == alone_b
    assert alone_a[0] != alone_b[0]


@pytest.mark.parametrize("kind", KINDS)
def test_reset_restarts_the_match(exported, kind):
    runner = load_emulator(exported[kind])
    static, tokens = _match(3)
    state = runner.new_state()
    runner.reset(state, static)
    first = [runner.step(state, t) for t in tokens]
    runner.reset(state, static)
    second = [runner.step(state, t) for t in tokens]
    assert first == second
    assert len({o.price for o in first}) > 1  # the state does carry history


@pytest.mark.parametrize("kind", KINDS)
def test_outputs_are_probabilities(exported, kind):
    runner = load_emulator(exported[kind])
    for out in _run_alone(runner, *_match(4)):
        assert 0.0 < out.price < 1.0 and 0.0 < out.distress < 1.0
        assert np.isfinite(out.logvar)


def test_kv_cache_grows_past_its_capacity_without_changing_outputs(exported):
    runner = load_emulator(exported["transformer"])
    static, tokens = _match(5, points=20)
    small = runner.new_state(capacity=2)
    runner.reset(small, static)
    grown = [runner.step(small, t) for t in tokens]
    assert isinstance(small, KVMatchState)
    assert small.length == 21 and small.capacity >= 21
    assert grown == _run_alone(runner, static, tokens)


def test_kv_cache_is_append_only(exported):
    runner = load_emulator(exported["transformer"])
    static, tokens = _match(6)
    state = runner.new_state(capacity=64)
    runner.reset(state, static)
    runner.step(state, tokens[0])
    assert isinstance(state, KVMatchState)
    before = [cache[:2].copy() for cache in state.caches]
    runner.step(state, tokens[1])
    for cache, old in zip(state.caches, before, strict=True):
        assert np.array_equal(cache[:2], old)  # earlier rows untouched
        assert np.any(cache[2] != 0.0)  # the new row was written in place


@pytest.mark.parametrize("kind", KINDS)
def test_step_before_reset_is_refused(exported, kind):
    runner = load_emulator(exported[kind])
    with pytest.raises(ValueError, match="reset"):
        runner.step(runner.new_state(), np.zeros(TOKEN_DIM, dtype=np.float32))


@pytest.mark.parametrize("kind", KINDS)
def test_a_committed_speculation_is_the_step_bit_for_bit(exported, kind):
    runner = load_emulator(exported[kind])
    static, tokens = _match(8, points=12)
    expected = _run_alone(runner, static, tokens)
    decoy = np.random.default_rng(9).normal(size=TOKEN_DIM).astype(np.float32)
    state = runner.new_state(capacity=2)  # the Transformer's cache grows while committing
    runner.reset(state, static)

    outputs = []
    for i, token in enumerate(tokens):
        branch = i % 2  # the point lands on either branch; the other holds the point not played
        speculated = runner.speculate(state, token, branch)
        runner.speculate(state, decoy, 1 - branch)
        outputs.append(runner.commit(state, branch))
        assert speculated == outputs[-1]

    assert outputs == expected


@pytest.mark.parametrize("kind", KINDS)
def test_speculating_leaves_the_state_where_it_was(exported, kind):
    runner = load_emulator(exported[kind])
    static, tokens = _match(10, points=8)
    expected = _run_alone(runner, static, tokens)
    state = runner.new_state()
    runner.reset(state, static)

    outputs = []
    for token in tokens:
        runner.speculate(state, token[::-1].copy(), 0)
        runner.speculate(state, token * 2.0, 1)
        outputs.append(runner.step(state, token))

    assert outputs == expected
    assert isinstance(state, GRUMatchState) or state.length == len(tokens) + 1


@pytest.mark.parametrize("kind", KINDS)
def test_speculating_before_reset_is_refused(exported, kind):
    runner = load_emulator(exported[kind])
    with pytest.raises(ValueError, match="reset"):
        runner.speculate(runner.new_state(), np.zeros(TOKEN_DIM, dtype=np.float32), 0)


def _copy_model(src_onnx, dst_dir, edit):
    dst = dst_dir / src_onnx.name
    shutil.copy(src_onnx, dst)
    meta = json.loads(src_onnx.with_suffix(".json").read_text())
    edit(meta)
    dst.with_suffix(".json").write_text(json.dumps(meta))
    return dst


def test_model_with_another_schema_hash_is_refused(exported, tmp_path):
    def other_schema(meta):
        meta["schema_hash"] = "f" * 64

    path = _copy_model(exported["gru"], tmp_path, other_schema)
    with pytest.raises(SchemaMismatchError, match="feature schema hash ffffffffffff"):
        load_emulator(path)


def test_metadata_kind_must_match_the_graph(exported, tmp_path):
    def claim_gru(meta):
        meta["architecture"]["kind"] = "gru"

    path = _copy_model(exported["transformer"], tmp_path, claim_gru)
    with pytest.raises(ValueError, match="not a gru emulator step graph"):
        load_emulator(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_emulator(tmp_path / "nope.onnx")


def test_state_of_another_model_is_refused(exported):
    gru = load_emulator(exported["gru"])
    other = load_emulator(exported["gru"])
    state = gru.new_state()
    with pytest.raises(ValueError, match="another model"):
        other.reset(state, np.zeros(STATIC_DIM, dtype=np.float32))


def test_features_to_runner_path(exported):
    from engine.features import BookSummary, MatchFeatures, PointEnded, ScoreInputs, build_static

    runner = load_emulator(exported["transformer"])
    assert runner.metadata is not None
    features = MatchFeatures(runner.metadata.variant)
    state = runner.new_state()
    runner.reset(state, build_static(0.64, 5, "grass"))
    outputs = []
    p1_points = 0
    for i in range(6):
        p1_points = (p1_points + 1) % 4
        score = ScoreInputs(
            server=1, p1_sets=0, p2_sets=0, p1_games=0, p2_games=0,
            p1_points=p1_points, p2_points=0, in_tiebreak=False,
        )  # fmt: skip
        book = BookSummary(back_price=1.5 + 0.01 * i, lay_price=1.52 + 0.01 * i, back_size=90.0)
        point = PointEnded(
            server=1, winner=1, score_after=score, fair_prob=0.65, fair_if_p1_wins=0.66,
            fair_if_p1_loses=0.63, book=book,
        )  # fmt: skip
        outputs.append(runner.step(state, features.on_point(point)))
        features.on_market_label(1 / (1.5 + 0.01 * i))
    assert len({o.price for o in outputs}) == 6
    assert all(0.0 < o.price < 1.0 for o in outputs)
