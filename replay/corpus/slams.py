"""Read the shared slam point-by-point set (matches.csv + points.parquet) into per-match records.

Only what the corpus needs is kept: static match info (players, format, odds, result) and, per
point, the server, the winner, the state flags that drive the duration model, and `elapsed_s`
where the source has it. Matches whose replayed score disagrees with the official one
(`pbp_consistent` false) are dropped: their point sequences cannot be trusted; so are the two
whose recorded servers break the serve rotation (`server_mismatch_points` > 0), which no score
feed could deliver.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.physics.rules import FINAL_SET_RULES, MatchRules

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_POINT_COLUMNS = (
    "match_id",
    "server",
    "point_winner",
    "set_no",
    "game_no",
    "tiebreak",
    "game_end",
    "set_end",
    "match_end",
    "after_match_end",
    "elapsed_s",
    "rally",
    "p1_games",
    "p2_games",
)

# Pre-match odds in order of preference: Pinnacle is the sharpest book, the average the most
# complete. The first pair with both prices above 1.0 is used.
_ODDS_SOURCES = ("ps", "avg", "max", "b365", "ex", "lb")


@dataclass(frozen=True, slots=True)
class MatchInfo:
    """Static facts about one match (one row of matches.csv)."""

    match_id: str
    tour: str
    slam: str
    year: int
    surface: str
    round: str
    match_date: str
    best_of: int
    final_set_rule: str
    player1: str
    player2: str
    winner: int
    score: str
    retired: bool
    first_server: int
    odds_p1: float
    odds_p2: float
    odds_source: str
    p1_sackmann_id: str
    p2_sackmann_id: str

    @property
    def rules(self) -> MatchRules:
        return MatchRules(best_of=self.best_of, final_set=self.final_set_rule)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class MatchPoints:
    """The point sequence of one match, in order, up to and including the last real point."""

    server: IntArray
    winner: IntArray
    tiebreak: BoolArray
    game_end: BoolArray
    set_end: BoolArray
    changeover: BoolArray
    elapsed_s: FloatArray
    rally: FloatArray

    def __len__(self) -> int:
        return len(self.server)


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan


def _pick_odds(row: dict[str, str]) -> tuple[float, float, str]:
    for source in _ODDS_SOURCES:
        o1 = _float(row.get(f"odds_{source}_p1", ""))
        o2 = _float(row.get(f"odds_{source}_p2", ""))
        if o1 > 1.0 and o2 > 1.0:
            return o1, o2, source
    return math.nan, math.nan, ""


def _match_info(row: dict[str, str]) -> MatchInfo:
    match_id = row["match_id"]
    rule = row["final_set_rule"]
    if rule not in FINAL_SET_RULES:
        raise ValueError(f"matches.csv {match_id}.final_set_rule: unknown {rule!r}")
    odds1, odds2, source = _pick_odds(row)
    return MatchInfo(
        match_id=match_id,
        tour=row["tour"],
        slam=row["slam"],
        year=int(row["year"]),
        surface=row["surface"],
        round=row["round"],
        match_date=row["match_date"],
        best_of=int(row["best_of"]),
        final_set_rule=rule,
        player1=row["player1"],
        player2=row["player2"],
        winner=int(row["winner"]),
        score=row["score"],
        retired=row["retired"] == "True",
        first_server=int(row["first_server"]),
        odds_p1=odds1,
        odds_p2=odds2,
        odds_source=source,
        p1_sackmann_id=row["p1_sackmann_id"],
        p2_sackmann_id=row["p2_sackmann_id"],
    )


def load_matches(slams_dir: str | Path) -> list[MatchInfo]:
    """The consistent matches of matches.csv with usable odds, sorted by match id."""
    path = Path(slams_dir) / "matches.csv"
    if not path.is_file():
        raise FileNotFoundError(f"slams: {path} not found")
    with path.open(newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row.get("pbp_consistent") == "True" and row.get("server_mismatch_points") == "0"
        ]
    infos = [_match_info(row) for row in rows]
    return sorted((info for info in infos if info.odds_source), key=lambda m: m.match_id)


def _changeovers(
    game_end: BoolArray, set_end: BoolArray, p1_games: Any, p2_games: Any
) -> BoolArray:
    """Players change ends after odd games of a set (games counted after the point)."""
    games_after = np.asarray(p1_games) + np.asarray(p2_games) + game_end.astype(np.int64)
    changeover: BoolArray = game_end & ~set_end & (games_after % 2 == 1)
    return changeover


def load_points(slams_dir: str | Path, match_ids: set[str]) -> dict[str, MatchPoints]:
    """Point sequences of the given matches (points after the match end are dropped)."""
    path = Path(slams_dir) / "points.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"slams: {path} not found")
    table = pq.read_table(path, columns=list(_POINT_COLUMNS))
    table = table.filter(pc.is_in(table["match_id"], value_set=_string_array(sorted(match_ids))))
    table = table.filter(pc.invert(table["after_match_end"]))
    ids = table["match_id"].to_numpy(zero_copy_only=False)
    columns = {name: table[name].to_numpy(zero_copy_only=False) for name in _POINT_COLUMNS[1:]}
    out: dict[str, MatchPoints] = {}
    if len(ids) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    for start, end in zip(starts, ends, strict=True):
        part = {name: values[start:end] for name, values in columns.items()}
        game_end = part["game_end"].astype(bool)
        set_end = part["set_end"].astype(bool)
        out[str(ids[start])] = MatchPoints(
            server=part["server"].astype(np.int64),
            winner=part["point_winner"].astype(np.int64),
            tiebreak=part["tiebreak"].astype(bool),
            game_end=game_end,
            set_end=set_end,
            changeover=_changeovers(game_end, set_end, part["p1_games"], part["p2_games"]),
            elapsed_s=np.asarray(part["elapsed_s"], dtype=np.float64),
            rally=np.asarray(part["rally"], dtype=np.float64),
        )
    return out


def _string_array(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.large_string())
