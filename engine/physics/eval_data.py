"""Load the slam point-by-point set (`../shared/data/slams` format) into flat numpy arrays.

The evaluation scores P(player 1 wins) before every point, so what it needs per point is the score
state, who serves, who won the point and how many serve points each player has played and won
before it; per match: format, tour, surface, year, Pinnacle odds and the winner. Everything is
vectorised here once so that model variants can be compared cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.logs import get_logger
from engine.physics.rules import FINAL_SET_RULES

log = get_logger("physics.eval_data")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

KNOWN_TOURS = ("ATP", "WTA")
KNOWN_SURFACES = ("Hard", "Clay", "Grass")
MATCH_COLUMNS = (
    "match_id",
    "tour",
    "year",
    "surface",
    "best_of",
    "final_set_rule",
    "winner",
    "retired",
    "pbp_consistent",
    "has_pinnacle",
    "odds_ps_p1",
    "odds_ps_p2",
)
POINT_COLUMNS = (
    "match_id",
    "point_idx",
    "tiebreak",
    "tb_target",
    "server",
    "point_winner",
    "p1_sets",
    "p2_sets",
    "p1_games",
    "p2_games",
    "p1_points",
    "p2_points",
)


@dataclass(frozen=True)
class SlamMatches:
    """One entry per evaluated match (already filtered)."""

    match_id: StrArray
    tour: StrArray
    surface: StrArray
    year: IntArray
    best_of: IntArray
    final_set_rule: StrArray
    winner: IntArray
    odds_p1: FloatArray
    odds_p2: FloatArray

    def __len__(self) -> int:
        return int(self.match_id.shape[0])

    def subset(self, mask: BoolArray) -> SlamMatches:
        return SlamMatches(
            **{name: getattr(self, name)[mask] for name in self.__dataclass_fields__}
        )


@dataclass(frozen=True)
class SlamPoints:
    """One entry per point, state BEFORE the point, ordered by match then point.

    states columns: sets1, sets2, games1, games2, points1, points2, server (p_match_batch layout);
    long deuces and tiebreaks are folded to the equivalent small score (8-7 -> 4-3).
    served_a / won_a: serve points player 1 had played / won before this point; _b for player 2.
    """

    match_index: IntArray
    states: IntArray
    server_won: BoolArray
    served_a: IntArray
    won_a: IntArray
    served_b: IntArray
    won_b: IntArray

    def __len__(self) -> int:
        return int(self.match_index.shape[0])


@dataclass(frozen=True)
class SlamDataset:
    matches: SlamMatches
    points: SlamPoints
    excluded: dict[str, int]

    def outcome(self) -> FloatArray:
        """1.0 where player 1 won the match, per point."""
        won: BoolArray = self.matches.winner[self.points.match_index] == 1
        return won.astype(np.float64)

    def subset_matches(self, mask: BoolArray) -> SlamDataset:
        """The dataset restricted to matches where `mask` is true (points re-indexed)."""
        new_index = np.cumsum(mask) - 1
        keep = mask[self.points.match_index]
        p = self.points
        points = SlamPoints(
            match_index=new_index[p.match_index[keep]],
            states=p.states[keep],
            server_won=p.server_won[keep],
            served_a=p.served_a[keep],
            won_a=p.won_a[keep],
            served_b=p.served_b[keep],
            won_b=p.won_b[keep],
        )
        return SlamDataset(self.matches.subset(mask), points, dict(self.excluded))


def _read_matches(path: Path) -> dict[str, Any]:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path)
    missing = [c for c in MATCH_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"matches: {path} lacks column {missing[0]!r}")
    return {c: table[c].to_numpy(zero_copy_only=False) for c in MATCH_COLUMNS}


def _read_points(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    missing = [c for c in POINT_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"points: {path} lacks column {missing[0]!r}")
    columns = list(POINT_COLUMNS)
    if "after_match_end" in names:
        columns.append("after_match_end")
    table = pq.read_table(path, columns=columns)
    out = {c: table[c].to_numpy(zero_copy_only=False) for c in columns if c != "match_id"}
    out["match_id"] = table["match_id"].to_numpy(zero_copy_only=False).astype(str)
    return out


def _as_bool(values: Any) -> BoolArray:
    array = np.asarray(values)
    if array.dtype == np.bool_:
        return array
    return np.array([bool(v) if v is not None else False for v in array], dtype=np.bool_)


def _select_matches(raw: dict[str, Any]) -> tuple[SlamMatches, dict[str, int]]:
    odds1 = np.asarray(raw["odds_ps_p1"], dtype=np.float64)
    odds2 = np.asarray(raw["odds_ps_p2"], dtype=np.float64)
    consistent = _as_bool(raw["pbp_consistent"])
    pinnacle = _as_bool(raw["has_pinnacle"])
    retired = _as_bool(raw["retired"])
    valid_odds = np.isfinite(odds1) & np.isfinite(odds2) & (odds1 > 1.0) & (odds2 > 1.0)
    winner_raw = np.asarray(raw["winner"], dtype=np.float64)
    winner = np.where(np.isfinite(winner_raw), winner_raw, 0.0).astype(np.int64)
    tour = np.char.upper(np.char.strip(np.asarray(raw["tour"]).astype(str)))
    surface = np.char.capitalize(np.char.strip(np.asarray(raw["surface"]).astype(str)))
    best_of = np.nan_to_num(np.asarray(raw["best_of"], dtype=np.float64))
    final_set = np.char.strip(np.asarray(raw["final_set_rule"]).astype(str))
    known_format = (
        np.isin(tour, KNOWN_TOURS)
        & np.isin(surface, KNOWN_SURFACES)
        & np.isin(best_of, (3.0, 5.0))
        & np.isin(final_set, FINAL_SET_RULES)
        & np.isin(winner, (1, 2))
    )
    usable = consistent & pinnacle & ~retired & valid_odds
    excluded = {
        "not_pbp_consistent": int(np.sum(~consistent)),
        "no_pinnacle": int(np.sum(consistent & ~pinnacle)),
        "retired": int(np.sum(consistent & pinnacle & retired)),
        "pinnacle_odds_not_above_1": int(np.sum(consistent & pinnacle & ~retired & ~valid_odds)),
        "unknown_tour_surface_format_or_winner": int(np.sum(usable & ~known_format)),
    }
    keep = usable & known_format
    matches = SlamMatches(
        match_id=np.asarray(raw["match_id"]).astype(str)[keep],
        tour=tour[keep],
        surface=surface[keep],
        year=np.asarray(raw["year"], dtype=np.int64)[keep],
        best_of=best_of[keep].astype(np.int64),
        final_set_rule=final_set[keep],
        winner=winner[keep],
        odds_p1=odds1[keep],
        odds_p2=odds2[keep],
    )
    return matches, excluded


def fold_long_scores(
    points1: IntArray, points2: IntArray, tiebreak: BoolArray, tb_target: IntArray
) -> tuple[IntArray, IntArray]:
    """Map long deuce games and tiebreaks onto the equivalent small score.

    After deuce only the difference matters: 8-7 in a game is advantage (4-3); 17-16 in a 7-point
    tiebreak is the same state as 7-6. Folding keeps every state inside the chain's small grid.
    """
    floor = np.where(tiebreak, np.maximum(tb_target, 7) - 1, 3)
    excess = np.minimum(points1, points2) - floor
    shift = np.where(excess > 0, excess, 0)
    return points1 - shift, points2 - shift


def _serve_counts(
    match_index: IntArray, server: IntArray, server_won: BoolArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Serve points played/won by each player BEFORE each point, within its match."""
    n = match_index.shape[0]
    starts = np.ones(n, dtype=np.bool_)
    starts[1:] = match_index[1:] != match_index[:-1]
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(n), 0))

    def before(flags: BoolArray) -> IntArray:
        inclusive = np.cumsum(flags.astype(np.int64))
        exclusive = inclusive - flags
        return exclusive - exclusive[start_pos]

    a_serves = server == 1
    b_serves = ~a_serves
    return (
        before(a_serves),
        before(a_serves & server_won),
        before(b_serves),
        before(b_serves & server_won),
    )


def load_slams(matches_path: str | Path, points_path: str | Path) -> SlamDataset:
    """Read, filter (pbp_consistent, Pinnacle odds > 1.0, no retirement) and vectorise the set."""
    matches_path, points_path = Path(matches_path), Path(points_path)
    for field, path in (("matches", matches_path), ("points", points_path)):
        if not path.is_file():
            raise ValueError(f"{field}: no such file {path}")
    matches, excluded = _select_matches(_read_matches(matches_path))
    raw = _read_points(points_path)

    lookup = {mid: i for i, mid in enumerate(matches.match_id.tolist())}
    match_index = np.fromiter(
        (lookup.get(mid, -1) for mid in raw["match_id"].tolist()),
        dtype=np.int64,
        count=raw["match_id"].shape[0],
    )
    keep = match_index >= 0
    if "after_match_end" in raw:
        after_end = _as_bool(raw["after_match_end"])
        excluded["points_after_match_end"] = int(np.sum(keep & after_end))
        keep &= ~after_end
    order = np.lexsort((np.asarray(raw["point_idx"])[keep], match_index[keep]))
    idx = np.flatnonzero(keep)[order]

    def col(name: str) -> IntArray:
        return np.asarray(raw[name], dtype=np.int64)[idx]

    match_index = match_index[idx]
    server = col("server")
    winner = col("point_winner")
    bad_rows = ~np.isin(server, (1, 2)) | ~np.isin(winner, (1, 2))
    server_won = winner == server
    tiebreak = _as_bool(raw["tiebreak"])[idx]
    points1, points2 = fold_long_scores(
        col("p1_points"), col("p2_points"), tiebreak, col("tb_target")
    )
    states = np.stack(
        [
            col("p1_sets"),
            col("p2_sets"),
            col("p1_games"),
            col("p2_games"),
            points1,
            points2,
            server,
        ],
        axis=1,
    )
    served_a, won_a, served_b, won_b = _serve_counts(match_index, server, server_won)

    has_points = np.zeros(len(matches), dtype=np.bool_)
    has_points[match_index] = True
    bad_match = np.zeros(len(matches), dtype=np.bool_)
    bad_match[match_index[bad_rows]] = True
    excluded["no_points"] = int(np.sum(~has_points))
    excluded["server_or_point_winner_not_1_or_2"] = int(np.sum(bad_match))
    dataset = SlamDataset(
        matches,
        SlamPoints(match_index, states, server_won, served_a, won_a, served_b, won_b),
        excluded,
    )
    keep_matches = has_points & ~bad_match
    if not np.all(keep_matches):
        dataset = dataset.subset_matches(keep_matches)
    log.info(
        "slams_loaded",
        matches=len(dataset.matches),
        points=len(dataset.points),
        **dataset.excluded,
    )
    return dataset
