from dataclasses import replace

import numpy as np
import pytest

from engine.features.schema import BOOK_COLUMNS, STATIC_DIM, TOKEN_DIM, TOKEN_INDEX
from training.synthetic import make_synthetic_tensors
from training.tensors import (
    SPLIT_TRAIN,
    SPLIT_VAL,
    TensorSet,
    data_hash,
    load_tensors,
    save_tensors,
)


def test_shapes_and_masks(synthetic):
    n, t = synthetic.static.shape[0], synthetic.seq.shape[1]
    assert synthetic.static.shape == (n, STATIC_DIM)
    assert synthetic.seq.shape == (n, t, TOKEN_DIM)
    assert synthetic.y.shape == synthetic.mask.shape == synthetic.pts_since_mto.shape == (n, t)
    lengths = synthetic.lengths
    for m in range(n):  # real points form a prefix, padding is zero
        assert synthetic.mask[m, : lengths[m]].all() and not synthetic.mask[m, lengths[m] :].any()
        assert not synthetic.seq[m, lengths[m] :].any()


def test_subset_by_split(synthetic):
    train = synthetic.subset(SPLIT_TRAIN)
    val = synthetic.subset(SPLIT_VAL)
    assert train.static.shape[0] + val.static.shape[0] < synthetic.static.shape[0]
    assert (train.split == SPLIT_TRAIN).all() and (val.split == SPLIT_VAL).all()


def test_lite_zeroes_book_columns_of_a_copy(synthetic):
    lite = synthetic.as_variant("lite")
    book = [TOKEN_INDEX[c] for c in BOOK_COLUMNS]
    assert lite.variant == "lite"
    assert not lite.seq[..., book].any()
    assert synthetic.seq[..., book].any()  # the full set is untouched
    others = [i for i in range(TOKEN_DIM) if i not in book]
    assert np.array_equal(lite.seq[..., others], synthetic.seq[..., others])
    with pytest.raises(ValueError, match="cannot be used as full"):
        lite.as_variant("full")


def test_save_load_round_trip_and_hash(synthetic, tmp_path):
    path = tmp_path / "t.npz"
    save_tensors(path, synthetic)
    loaded = load_tensors(path)
    assert data_hash(loaded) == data_hash(synthetic)
    assert data_hash(synthetic.as_variant("lite")) != data_hash(synthetic)
    assert data_hash(make_synthetic_tensors(8, 10, seed=1)) != data_hash(
        make_synthetic_tensors(8, 10, seed=2)
    )


def test_other_schema_is_refused(synthetic):
    with pytest.raises(ValueError, match=r"tensors\.schema_hash"):
        replace(synthetic, schema_hash="1" * 64)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("static", lambda t: t.static[:, :5], "tensors.static"),
        ("seq", lambda t: t.seq.astype(np.float64), "tensors.seq"),
        ("mask", lambda t: t.mask.astype(np.int8), "tensors.mask"),
        ("y", lambda t: np.where(t.mask, 1.5, 0.0).astype(np.float32), "tensors.y"),
        ("pts_since_mto", lambda t: t.pts_since_mto - 200, "tensors.pts_since_mto"),
        ("split", lambda t: np.full_like(t.split, 7), "tensors.split"),
    ],
)
def test_bad_tensors_are_refused_with_the_key(synthetic, field, bad, message):
    with pytest.raises(ValueError, match=message):
        replace(synthetic, **{field: bad(synthetic)})


def test_mask_with_a_gap_is_refused(synthetic):
    mask = synthetic.mask.copy()
    mask[0, 1] = False
    mask[0, 2] = True
    with pytest.raises(ValueError, match=r"real points must come first"):
        replace(synthetic, mask=mask)


def test_missing_key_in_file(tmp_path, synthetic):
    path = tmp_path / "bad.npz"
    np.savez(path, static=synthetic.static)
    with pytest.raises(ValueError, match=r"tensors\.seq: missing"):
        load_tensors(path)


def test_tensor_set_is_a_tensor_set(synthetic):
    assert isinstance(synthetic, TensorSet)
