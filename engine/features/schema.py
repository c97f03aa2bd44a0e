"""The emulator feature schema: names, order and groups of the static vector and per-point token.

This module is the single definition used by training (tensorise) and by the engine
(live/replay inference), so the two cannot drift. Every exported model stores SCHEMA_VERSION and
SCHEMA_HASH in its metadata and the model runner refuses a model whose hash differs (DESIGN.md §5).

Change the column list → bump SCHEMA_VERSION (the hash changes on its own). The hash is the sha256
of the canonical JSON (sorted keys, no whitespace) of the version, the static columns and the token
columns with their groups and book flags, so a reordering, a rename or a group change all show.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

SCHEMA_VERSION: Final = 2  # 2: first-point fair_delta / residual from the match opening

GROUP_SCORE: Final = "score"
GROUP_SERVE: Final = "serve"
GROUP_BOUNDARY: Final = "boundary"
GROUP_MTO: Final = "mto"
GROUP_FAIR: Final = "fair"
GROUP_BOOK: Final = "book"
GROUP_RESIDUAL: Final = "residual"
GROUPS: Final = (
    GROUP_SCORE,
    GROUP_SERVE,
    GROUP_BOUNDARY,
    GROUP_MTO,
    GROUP_FAIR,
    GROUP_BOOK,
    GROUP_RESIDUAL,
)


@dataclass(frozen=True, slots=True)
class Column:
    """One token column. `book` columns are zeroed in the emu_lite variant."""

    name: str
    group: str
    description: str

    @property
    def is_book(self) -> bool:
        return self.group == GROUP_BOOK


STATIC_COLUMNS: Final[tuple[str, ...]] = (
    "pre_match_logit",  # logit of player 1's de-vigged pre-match probability, clipped to ±6
    "best_of_3",
    "best_of_5",
    "surface_hard",
    "surface_clay",
    "surface_grass",
    "surface_carpet",
)
SURFACES: Final[tuple[str, ...]] = ("hard", "clay", "grass", "carpet")


def _cols(group: str, *pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, group, description) for name, description in pairs)


_SCORE = _cols(
    GROUP_SCORE,
    ("server_is_p1", "1 if player 1 serves this point"),
    ("p1_sets", "sets won by player 1 / 3"),
    ("p2_sets", "sets won by player 2 / 3"),
    ("p1_games", "games won by player 1 in this set / 6"),
    ("p2_games", "games won by player 2 in this set / 6"),
    ("p1_points", "points of player 1 in a regular game / 4 (0 in a tiebreak)"),
    ("p2_points", "points of player 2 in a regular game / 4 (0 in a tiebreak)"),
    ("p1_tb_points", "tiebreak points of player 1 / 7 (0 outside a tiebreak)"),
    ("p2_tb_points", "tiebreak points of player 2 / 7 (0 outside a tiebreak)"),
    ("in_tiebreak", "1 inside a tiebreak"),
    ("tiebreak_to_10", "1 inside a 10-point tiebreak"),
    ("set_no", "set number (1-based) / 5"),
    ("deciding_set", "1 in the deciding set"),
    ("p1_game_point", "1 if player 1 wins the game by winning this point"),
    ("p2_game_point", "1 if player 2 wins the game by winning this point"),
    ("break_point", "1 if the receiver wins the game by winning this point"),
    ("p1_set_point", "1 if player 1 wins the set by winning this point"),
    ("p2_set_point", "1 if player 2 wins the set by winning this point"),
    ("p1_match_point", "1 if player 1 wins the match by winning this point"),
    ("p2_match_point", "1 if player 2 wins the match by winning this point"),
)

_SERVE_PER_PLAYER = (
    ("serve_points", "serve points played so far / 100"),
    ("serve_won", "share of serve points won, shrunk to the prior with 10 pseudo-points"),
    ("first_in", "share of first serves in (shrunk); prior when serve detail is unknown"),
    ("first_won", "share of first-serve points won (shrunk)"),
    ("second_won", "share of second-serve points won (shrunk)"),
    ("ace_rate", "aces per serve point (shrunk)"),
    ("df_rate", "double faults per serve point (shrunk)"),
)
_SERVE = _cols(
    GROUP_SERVE,
    *((f"p1_{n}", f"player 1 {d}") for n, d in _SERVE_PER_PLAYER),
    *((f"p2_{n}", f"player 2 {d}") for n, d in _SERVE_PER_PLAYER),
    ("serve_detail_known", "1 if serve number/ace/double-fault detail is available"),
    ("p1_points_won_share", "share of all points so far won by player 1 (0.5 before any)"),
    ("p1_recent_share", "EWMA (alpha 0.2) of player 1 winning each point, 0.5 at start"),
    ("last_point_p1", "1 if player 1 won the previous point, 0 if player 2, 0.5 before any"),
    ("streak", "signed run of consecutive points (+ player 1, - player 2) / 10, clipped ±1"),
)

_BOUNDARY = _cols(
    GROUP_BOUNDARY,
    ("new_game", "1 on the first point of a game"),
    ("changeover", "1 on the first point after a change of ends (odd game total)"),
    ("set_break", "1 on the first point of a set after the first"),
)

_MTO = _cols(
    GROUP_MTO,
    ("mto_flag", "1 once a medical time-out has occurred in the match"),
    ("pts_since_mto", "points since the last MTO, capped at 99, / 99 (1 when none)"),
    ("exp_decay_mto", "exp(-pts_since_mto / 10) after an MTO, 0 when none"),
)

_FAIR = _cols(
    GROUP_FAIR,
    ("fair_prob", "physics P(player 1 wins the match) at this point"),
    (
        "fair_delta",
        "fair_prob minus the previous point's fair_prob (first point: minus the price at 0-0; "
        "0 when unknown)",
    ),
    ("fair_leverage", "physics P(win | p1 wins point) - P(win | p1 loses point)"),
)

_BOOK = _cols(
    GROUP_BOOK,
    ("back_prob", "1 / best back price of player 1 (0 if none)"),
    ("lay_prob", "1 / best lay price of player 1 (0 if none)"),
    ("spread_ticks", "best lay - best back in ticks / 10, clipped to 1"),
    ("back_size", "log1p(size at best back) / 10"),
    ("lay_size", "log1p(size at best lay) / 10"),
    ("back_prob_50", "1 / volume-weighted price to back £50 on player 1 (0 if not fillable)"),
    ("lay_prob_50", "1 / volume-weighted price to lay £50 on player 1 (0 if not fillable)"),
    ("back_depth", "log1p(total back size, top 3 levels) / 10"),
    ("lay_depth", "log1p(total lay size, top 3 levels) / 10"),
    ("imbalance", "(back depth - lay depth) / (back depth + lay depth), 0 if empty"),
    ("d_back_size", "change of back_size since the previous point"),
    ("d_lay_size", "change of lay_size since the previous point"),
    ("d_mid_prob", "change of the mid implied probability since the previous point"),
    ("ltp_prob", "1 / last traded price of player 1 (0 if none)"),
    ("d_traded", "log1p(matched volume since the previous point) / 10"),
    ("p2_back_prob", "1 / best back price of player 2 (0 if none)"),
    ("p2_lay_prob", "1 / best lay price of player 2 (0 if none)"),
    ("overround", "back_prob + p2_back_prob - 1 (0 if either is missing)"),
    ("suspended", "1 if the market is suspended"),
    ("liq_collapse", "1 if top-3 depth < 25% of the match median so far"),
)

_RESIDUAL = _cols(
    GROUP_RESIDUAL,
    (
        "residual",
        "previous point's market_prob - previous point's fair_prob (first point: the market "
        "before it - the price at 0-0; 0 when unknown)",
    ),
)

TOKEN_SPEC: Final[tuple[Column, ...]] = (
    *_SCORE,
    *_SERVE,
    *_BOUNDARY,
    *_MTO,
    *_FAIR,
    *_BOOK,
    *_RESIDUAL,
)
TOKEN_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in TOKEN_SPEC)
STATIC_DIM: Final = len(STATIC_COLUMNS)
TOKEN_DIM: Final = len(TOKEN_COLUMNS)
TOKEN_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(TOKEN_COLUMNS)}
BOOK_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in TOKEN_SPEC if c.is_book)

VARIANT_FULL: Final = "full"
VARIANT_LITE: Final = "lite"
VARIANTS: Final = (VARIANT_FULL, VARIANT_LITE)


def book_mask() -> npt.NDArray[np.bool_]:
    """Boolean (TOKEN_DIM,) mask of the columns emu_lite zeroes."""
    return np.array([c.is_book for c in TOKEN_SPEC], dtype=np.bool_)


def schema_document() -> dict[str, Any]:
    """The canonical description that SCHEMA_HASH is computed from (also written to metadata)."""
    return {
        "version": SCHEMA_VERSION,
        "static": list(STATIC_COLUMNS),
        "token": [{"name": c.name, "group": c.group, "book": c.is_book} for c in TOKEN_SPEC],
    }


def hash_document(document: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no whitespace) of a schema document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SCHEMA_HASH: Final[str] = hash_document(schema_document())


def _check_unique() -> None:
    if len(set(TOKEN_COLUMNS)) != TOKEN_DIM or len(set(STATIC_COLUMNS)) != STATIC_DIM:
        raise RuntimeError("feature schema: duplicate column names")


_check_unique()
