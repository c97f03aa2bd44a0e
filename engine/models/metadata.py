"""The metadata JSON written next to every exported ONNX model, and its validation.

Read by the engine without torch; written by training/export.py. The feature schema hash is what the
runner checks before it will step a model (DESIGN.md §5).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from engine.features.prior_schema import PRIOR_SCHEMA_HASH, PRIOR_SCHEMA_VERSION
from engine.features.schema import SCHEMA_HASH, SCHEMA_VERSION, VARIANTS

METADATA_SUFFIX: Final = ".json"
EMULATOR_KINDS: Final = ("gru", "transformer")
PRIOR_KIND: Final = "prior"
PRIOR_VARIANT: Final = "none"
MODEL_KINDS: Final = (*EMULATOR_KINDS, PRIOR_KIND)


def expected_schema(kind: str) -> tuple[str, int]:
    """(hash, version) of the feature schema the engine builds for this kind of model."""
    if kind == PRIOR_KIND:
        return PRIOR_SCHEMA_HASH, PRIOR_SCHEMA_VERSION
    return SCHEMA_HASH, SCHEMA_VERSION


class SchemaMismatchError(ValueError):
    """The model was trained on another feature schema than the engine builds."""


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """What a model was trained on and how well it did."""

    name: str
    architecture: dict[str, Any]
    variant: str
    schema_version: int
    schema_hash: str
    data_hash: str
    metrics: dict[str, float]
    parity_max_abs_diff: float
    created_utc: str
    opset: int
    onnx_file: str
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.architecture["kind"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: object) -> ModelMetadata:
        if not isinstance(raw, dict):
            raise ValueError("metadata: expected a JSON object")
        expected: dict[str, type | tuple[type, ...]] = {
            "name": str,
            "architecture": dict,
            "variant": str,
            "schema_version": int,
            "schema_hash": str,
            "data_hash": str,
            "metrics": dict,
            "parity_max_abs_diff": (int, float),
            "created_utc": str,
            "opset": int,
            "onnx_file": str,
            "training": dict,
        }
        unknown = sorted(set(raw) - set(expected))
        if unknown:
            raise ValueError(f"metadata.{unknown[0]}: unknown key")
        for key, types in expected.items():
            if key not in raw:
                raise ValueError(f"metadata.{key}: missing")
            if not isinstance(raw[key], types) or isinstance(raw[key], bool):
                raise ValueError(f"metadata.{key}: wrong type {type(raw[key]).__name__}")
        if raw["architecture"].get("kind") not in MODEL_KINDS:
            raise ValueError(f"metadata.architecture.kind: must be one of {list(MODEL_KINDS)}")
        allowed = (PRIOR_VARIANT,) if raw["architecture"]["kind"] == PRIOR_KIND else VARIANTS
        if raw["variant"] not in allowed:
            raise ValueError(f"metadata.variant: must be one of {list(allowed)}")
        for key, value in raw["metrics"].items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"metadata.metrics.{key}: expected a number")
        return cls(**raw)

    def check_schema(
        self, schema_hash: str | None = None, schema_version: int | None = None
    ) -> None:
        """Raise SchemaMismatchError unless the model's feature schema is the given one (by
        default the one the engine builds for this kind of model)."""
        default_hash, default_version = expected_schema(self.kind)
        schema_hash = default_hash if schema_hash is None else schema_hash
        schema_version = default_version if schema_version is None else schema_version
        if self.schema_hash != schema_hash:
            raise SchemaMismatchError(
                f"model {self.name}: feature schema hash {self.schema_hash[:12]}… (version "
                f"{self.schema_version}) differs from the engine's {schema_hash[:12]}… (version "
                f"{schema_version}); retrain/export it with the current engine.features schema"
            )


def metadata_path_for(onnx_path: Path) -> Path:
    return onnx_path.with_suffix(METADATA_SUFFIX)


def load_metadata(path: Path) -> ModelMetadata:
    """Metadata from NAME.json (or from NAME.onnx's sibling JSON)."""
    meta_path = metadata_path_for(path) if path.suffix == ".onnx" else path
    try:
        raw = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_path.name}: not valid JSON ({exc.msg})") from exc
    try:
        return ModelMetadata.from_dict(raw)
    except ValueError as exc:
        raise ValueError(f"{meta_path.name}: {exc}") from exc
