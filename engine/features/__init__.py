"""Emulator features: the one schema and the pure builders shared by training and the engine."""

from engine.features.builders import apply_variant, build_static, build_token, token_values
from engine.features.inputs import (
    BookSummary,
    FairInputs,
    MatchCounters,
    PlayerServeCounts,
    PointInputs,
    ScoreInputs,
    price_for_stake,
    update_counters,
)
from engine.features.match import MatchFeatures, PointEnded
from engine.features.schema import (
    BOOK_COLUMNS,
    SCHEMA_HASH,
    SCHEMA_VERSION,
    STATIC_COLUMNS,
    STATIC_DIM,
    TOKEN_COLUMNS,
    TOKEN_DIM,
    VARIANTS,
    schema_document,
)

__all__ = [
    "BOOK_COLUMNS",
    "SCHEMA_HASH",
    "SCHEMA_VERSION",
    "STATIC_COLUMNS",
    "STATIC_DIM",
    "TOKEN_COLUMNS",
    "TOKEN_DIM",
    "VARIANTS",
    "BookSummary",
    "FairInputs",
    "MatchCounters",
    "MatchFeatures",
    "PlayerServeCounts",
    "PointEnded",
    "PointInputs",
    "ScoreInputs",
    "apply_variant",
    "build_static",
    "build_token",
    "price_for_stake",
    "schema_document",
    "token_values",
    "update_counters",
]
