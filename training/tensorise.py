"""Aligned Parquet -> the trainer's tensor file (training/tensors.py contract), one per variant.

Tokens are built ONLY through engine/features (MatchFeatures.on_point / build_static), replaying
each match's rows with the same timing contract the engine follows live, so training and
inference cannot drift. emu_lite is emu_full with the schema's book columns zeroed
(engine.features.apply_variant). Splits are player-disjoint (training/splits.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa

from engine.features.builders import build_static
from engine.features.inputs import BookSummary, ScoreInputs
from engine.features.match import MatchFeatures, PointEnded
from engine.features.schema import STATIC_DIM, TOKEN_DIM, VARIANT_FULL, VARIANT_LITE
from engine.gate.book import implied_mid
from engine.logs import get_logger
from engine.physics.rules import MatchRules
from training.align import NO_MTO, read_aligned
from training.splits import DEFAULT_SHARES, MatchPlayers, SplitResult, split_by_player
from training.tensors import TensorSet, save_tensors

log = get_logger(__name__)

VARIANT_FILES: Final = {VARIANT_FULL: "emu_full.npz", VARIANT_LITE: "emu_lite.npz"}
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MatchTensors:
    match_id: str
    p1: str
    p2: str
    static: np.ndarray[Any, np.dtype[np.float32]]
    seq: np.ndarray[Any, np.dtype[np.float32]]  # (T, F)
    y: np.ndarray[Any, np.dtype[np.float32]]
    distress: np.ndarray[Any, np.dtype[np.float32]]
    pts_since_mto: np.ndarray[Any, np.dtype[np.int16]]


@dataclass(frozen=True, slots=True)
class TensoriseReport:
    matches: int
    dropped_for_disjoint_players: int
    split_counts: dict[int, int]
    files: dict[str, str]
    match_ids: tuple[str, ...]  # kept matches, in the tensor files' row order


def _book(row: Row) -> BookSummary | None:
    if not row["book_present"]:
        return None
    return BookSummary(
        back_price=row["best_back"],
        lay_price=row["best_lay"],
        back_size=row["best_back_size"],
        lay_size=row["best_lay_size"],
        back_price_50=row["back_price_50"],
        lay_price_50=row["lay_price_50"],
        back_depth=row["cum_size_back3"],
        lay_depth=row["cum_size_lay3"],
        ltp=row["ltp"],
        traded=row["traded"],
        p2_back_price=row["p2_best_back"],
        p2_lay_price=row["p2_best_lay"],
        spread_ticks=row["spread_ticks"],
        suspended=row["suspended_flag"],
        liq_collapse=row["liq_collapse"],
    )


def point_ended(row: Row, rules: MatchRules) -> PointEnded:
    """What the engine knows when the row's point ends (score after it, fair prices, the book)."""
    score = ScoreInputs(
        server=int(row["next_server"]),
        p1_sets=int(row["p1_sets"]),
        p2_sets=int(row["p2_sets"]),
        p1_games=int(row["p1_games"]),
        p2_games=int(row["p2_games"]),
        p1_points=int(row["p1_points"]),
        p2_points=int(row["p2_points"]),
        in_tiebreak=bool(row["in_tiebreak"]),
        rules=rules,
    )
    return PointEnded(
        server=int(row["server"]),
        winner=int(row["winner"]),
        score_after=score,
        fair_prob=float(row["fair_prob"]),
        fair_if_p1_wins=float(row["fair_if_p1_wins"]),
        fair_if_p1_loses=float(row["fair_if_p1_loses"]),
        book=_book(row),
    )


def match_tensors(rows: Sequence[Row]) -> MatchTensors:
    """Replay one match's aligned rows (in point order) through MatchFeatures."""
    first = rows[0]
    rules = MatchRules(
        best_of=int(first["best_of"]), final_set=first["final_set"], no_ad=bool(first["no_ad"])
    )
    features = MatchFeatures(VARIANT_FULL)
    if int(first["point_idx"]) == 0:  # the match is aligned from its first point: its opening
        features.on_match_open(
            float(first["fair_before"]), implied_mid(first["best_back"], first["best_lay"])
        )
    seq = np.zeros((len(rows), TOKEN_DIM), dtype=np.float32)
    for i, row in enumerate(rows):
        if row["mto_before"]:
            features.on_mto()
        point = point_ended(row, rules)
        features.on_point(point, out=seq[i])
        features.on_market_label(float(row["market_prob"]))
    return MatchTensors(
        match_id=str(first["match_id"]),
        p1=str(first["p1"]),
        p2=str(first["p2"]),
        static=build_static(float(first["pre_match_prob"]), rules.best_of, first["surface"]),
        seq=seq,
        y=np.array([r["market_prob"] for r in rows], dtype=np.float32),
        distress=np.array([r["distress"] for r in rows], dtype=np.float32),
        pts_since_mto=np.array(
            [min(int(r["pts_since_mto"]), NO_MTO) for r in rows], dtype=np.int16
        ),
    )


def group_matches(table: pa.Table) -> list[list[Row]]:
    """Rows grouped by match, matches sorted by id, rows by point index."""
    by_match: dict[str, list[Row]] = {}
    for row in table.to_pylist():
        by_match.setdefault(row["match_id"], []).append(row)
    return [sorted(by_match[m], key=lambda r: int(r["point_idx"])) for m in sorted(by_match)]


def stack(matches: Sequence[MatchTensors], splits: SplitResult) -> TensorSet:
    """Pad to the longest kept match; dropped matches (players in two splits) are left out."""
    kept = [m for m in matches if m.match_id in splits.assignment]
    if not kept:
        raise ValueError("aligned: no match left after the player-disjoint split")
    n, t = len(kept), max(m.seq.shape[0] for m in kept)
    static = np.zeros((n, STATIC_DIM), dtype=np.float32)
    seq = np.zeros((n, t, TOKEN_DIM), dtype=np.float32)
    y = np.zeros((n, t), dtype=np.float32)
    mask = np.zeros((n, t), dtype=np.bool_)
    distress = np.zeros((n, t), dtype=np.float32)
    pts = np.full((n, t), NO_MTO, dtype=np.int16)
    split = np.zeros(n, dtype=np.int8)
    for i, m in enumerate(kept):
        length = m.seq.shape[0]
        static[i] = m.static
        seq[i, :length] = m.seq
        y[i, :length] = m.y
        mask[i, :length] = True
        distress[i, :length] = m.distress
        pts[i, :length] = m.pts_since_mto
        split[i] = splits.assignment[m.match_id]
    return TensorSet(
        static=static,
        seq=seq,
        y=y,
        mask=mask,
        distress=distress,
        pts_since_mto=pts,
        split=split,
        variant=VARIANT_FULL,
    )


def tensorise(
    aligned: Path,
    out_dir: Path,
    *,
    variants: Sequence[str] = (VARIANT_FULL, VARIANT_LITE),
    shares: tuple[float, float, float] = DEFAULT_SHARES,
    seed: int = 0,
) -> TensoriseReport:
    """Write OUT/emu_<variant>.npz for each variant; returns what was written."""
    for variant in variants:
        if variant not in VARIANT_FILES:
            raise ValueError(f"--variant: must be one of {sorted(VARIANT_FILES)}, got {variant!r}")
    groups = group_matches(read_aligned(aligned))
    matches = [match_tensors(rows) for rows in groups]
    splits = split_by_player(
        [MatchPlayers(m.match_id, m.p1, m.p2) for m in matches], shares=shares, seed=seed
    )
    full = stack(matches, splits)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for variant in variants:
        data = full if variant == VARIANT_FULL else full.as_variant(variant)
        path = out_dir / VARIANT_FILES[variant]
        save_tensors(path, data)
        files[variant] = str(path)
    log.info(
        "tensorised",
        matches=full.static.shape[0],
        dropped=len(splits.dropped),
        splits=splits.counts(),
    )
    return TensoriseReport(
        matches=full.static.shape[0],
        dropped_for_disjoint_players=len(splits.dropped),
        split_counts=splits.counts(),
        files=files,
        match_ids=tuple(m.match_id for m in matches if m.match_id in splits.assignment),
    )
