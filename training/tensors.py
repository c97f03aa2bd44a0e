"""The tensor file the trainer reads (written by the tensoriser): one .npz holding every split.

Arrays (N matches, T points, padded; S = STATIC_DIM, F = TOKEN_DIM):
  static (N, S) float32 · seq (N, T, F) float32 · y (N, T) float32 market probability label ·
  mask (N, T) bool, real points · distress (N, T) float32 0/1 label · pts_since_mto (N, T) int16,
  99 when there was no MTO · split (N,) int8: 0 train, 1 validation, 2 test ·
  schema_hash, variant: 0-d unicode arrays.

The file must be built on the current feature schema (its hash is checked). A `full` file can be
trained as `lite` (book columns zeroed on load); a `lite` file cannot become `full`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from engine.features.builders import apply_variant
from engine.features.schema import SCHEMA_HASH, STATIC_DIM, TOKEN_DIM, VARIANT_FULL, VARIANTS

SPLIT_TRAIN: Final = 0
SPLIT_VAL: Final = 1
SPLIT_TEST: Final = 2
NO_MTO: Final = 99
ARRAY_KEYS: Final = ("static", "seq", "y", "mask", "distress", "pts_since_mto", "split")

Array = np.ndarray[Any, np.dtype[Any]]


@dataclass(frozen=True, slots=True)
class TensorSet:
    static: Array
    seq: Array
    y: Array
    mask: Array
    distress: Array
    pts_since_mto: Array
    split: Array
    variant: str = VARIANT_FULL
    schema_hash: str = SCHEMA_HASH

    def __post_init__(self) -> None:
        validate(self)

    @property
    def lengths(self) -> Array:
        lengths: Array = self.mask.sum(axis=1).astype(np.int64)
        return lengths

    def subset(self, split: int) -> TensorSet:
        """Matches of one split (all arrays indexed alike)."""
        keep = self.split == split
        arrays = {key: getattr(self, key)[keep] for key in ARRAY_KEYS}
        return TensorSet(**arrays, variant=self.variant, schema_hash=self.schema_hash)

    def as_variant(self, variant: str) -> TensorSet:
        """The same data for `variant`: full → lite zeroes the book columns (a copy)."""
        if variant not in VARIANTS:
            raise ValueError(f"variant: must be one of {list(VARIANTS)}, got {variant!r}")
        if variant == self.variant:
            return self
        if self.variant != VARIANT_FULL:
            raise ValueError(f"variant: a {self.variant} tensor file cannot be used as {variant}")
        return replace(self, seq=apply_variant(self.seq.copy(), variant), variant=variant)


def validate(t: TensorSet) -> None:
    """Shapes, dtypes and value ranges; ValueError('tensors.<key>: reason') on the first problem."""
    if t.schema_hash != SCHEMA_HASH:
        raise ValueError(
            f"tensors.schema_hash: {t.schema_hash[:12]}… differs from the current feature schema "
            f"{SCHEMA_HASH[:12]}…; re-tensorise"
        )
    if t.variant not in VARIANTS:
        raise ValueError(f"tensors.variant: must be one of {list(VARIANTS)}, got {t.variant!r}")
    n = t.static.shape[0]
    if t.static.shape != (n, STATIC_DIM) or t.static.dtype != np.float32:
        raise ValueError(f"tensors.static: expected float32 (N, {STATIC_DIM})")
    if t.seq.ndim != 3 or t.seq.shape[0] != n or t.seq.shape[2] != TOKEN_DIM:
        raise ValueError(f"tensors.seq: expected (N, T, {TOKEN_DIM}) with N={n}")
    if t.seq.dtype != np.float32:
        raise ValueError("tensors.seq: expected float32")
    shape = t.seq.shape[:2]
    expected = {
        "y": np.float32,
        "mask": np.bool_,
        "distress": np.float32,
        "pts_since_mto": np.int16,
    }
    for key, dtype in expected.items():
        arr = getattr(t, key)
        if arr.shape != shape or arr.dtype != dtype:
            raise ValueError(f"tensors.{key}: expected {np.dtype(dtype).name} {shape}")
    if t.split.shape != (n,) or t.split.dtype != np.int8:
        raise ValueError("tensors.split: expected int8 (N,)")
    if not np.isin(t.split, (SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST)).all():
        raise ValueError("tensors.split: values must be 0 (train), 1 (val) or 2 (test)")
    if not (np.isfinite(t.static).all() and np.isfinite(t.seq).all()):
        raise ValueError("tensors.seq: non-finite values")
    valid_y = t.y[t.mask]
    if not (np.isfinite(valid_y).all() and ((valid_y >= 0) & (valid_y <= 1)).all()):
        raise ValueError("tensors.y: labels must be probabilities on real points")
    if not np.isin(t.distress[t.mask], (0.0, 1.0)).all():
        raise ValueError("tensors.distress: labels must be 0 or 1")
    if (t.pts_since_mto < 0).any() or (t.pts_since_mto > NO_MTO).any():
        raise ValueError(f"tensors.pts_since_mto: must be within 0..{NO_MTO}")
    # a match's real points are a prefix: no gap before padding
    if (t.mask[:, 1:] & ~t.mask[:, :-1]).any():
        raise ValueError("tensors.mask: real points must come first, then padding")


def data_hash(t: TensorSet) -> str:
    """sha256 over the arrays' bytes in a fixed order (independent of the .npz container)."""
    digest = hashlib.sha256()
    for key in ARRAY_KEYS:
        arr = np.ascontiguousarray(getattr(t, key))
        digest.update(f"{key}:{arr.dtype.str}:{arr.shape}".encode())
        digest.update(arr.tobytes())
    digest.update(f"variant:{t.variant}:schema:{t.schema_hash}".encode())
    return digest.hexdigest()


def save_tensors(path: Path, t: TensorSet) -> None:
    arrays = {key: getattr(t, key) for key in ARRAY_KEYS}
    np.savez(path, **arrays, variant=np.array(t.variant), schema_hash=np.array(t.schema_hash))


def load_tensors(path: Path) -> TensorSet:
    """Read and validate a tensor file; ValueError names the offending key."""
    if not path.is_file():
        raise FileNotFoundError(f"tensor file not found: {path}")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in (*ARRAY_KEYS, "variant", "schema_hash") if k not in data.files]
        if missing:
            raise ValueError(f"tensors.{missing[0]}: missing from {path.name}")
        arrays = {key: data[key] for key in ARRAY_KEYS}
        return TensorSet(
            **arrays, variant=str(data["variant"]), schema_hash=str(data["schema_hash"])
        )
