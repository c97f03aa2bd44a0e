"""Prior-supplied serve sums for the slam evaluation, without leakage.

Each slam match is priced with the player store folded up to its tournament's start date
(`tourney_date` of matches.csv, equal to the results' date of the same event), so its features only
use matches that finished before the slam began. Matches are visited in date order; the store only
moves forward. A match the prior cannot price keeps its table sum and is counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.physics.eval_data import SlamDataset, SlamMatches
from engine.physics.serve_prior import ServeSumPrior

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PLAYER_COLUMNS = ("match_id", "p1_sackmann_id", "p2_sackmann_id", "tourney_date")


@dataclass(frozen=True, slots=True)
class SlamPlayers:
    """Per match id: (player 1 Sackmann id, player 2 Sackmann id, tournament start YYYYMMDD)."""

    by_match: dict[str, tuple[str, str, int]]


@dataclass(frozen=True)
class PriorSums:
    """Per evaluated match: the sum used (prior where it priced the match, else the table's)."""

    sums: FloatArray
    from_prior: BoolArray
    fallbacks: dict[str, int]
    newcomers: int  # players with no earlier tour-level match (the prior prices them as such)


def read_slam_players(matches_path: str | Path) -> SlamPlayers:
    """The player ids and tournament dates of matches.csv (slams format)."""
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(matches_path)
    missing = [c for c in PLAYER_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"matches: {matches_path} lacks column {missing[0]!r}")
    by_match: dict[str, tuple[str, str, int]] = {}
    columns = [table[c].to_pylist() for c in PLAYER_COLUMNS]
    for match_id, p1, p2, day in zip(*columns, strict=True):
        if p1 is None or p2 is None or day is None:
            continue
        date = day.year * 10000 + day.month * 100 + day.day
        by_match[str(match_id)] = (str(int(p1)), str(int(p2)), date)
    return SlamPlayers(by_match)


def prior_serve_sums(
    matches: SlamMatches, players: SlamPlayers, prior: ServeSumPrior, table_sums: FloatArray
) -> PriorSums:
    """p_a + p_b from the prior for every match (date order, store folded up to each date)."""
    sums = table_sums.astype(np.float64, copy=True)
    from_prior = np.zeros(len(matches), dtype=np.bool_)
    fallbacks: Counter[str] = Counter()
    known = [
        (i, found)
        for i, mid in enumerate(matches.match_id.tolist())
        if (found := players.by_match.get(str(mid))) is not None
    ]
    known.sort(key=lambda item: item[1][2])
    fallbacks["no_player_ids"] = len(matches) - len(known)
    seen_newcomers: set[tuple[str, int]] = set()
    for i, (p1, p2, date) in known:
        prior.store.advance_to(date)
        for player in (p1, p2):
            if not prior.store.knows(player):
                seen_newcomers.add((player, date))
        result = prior.sum_for_ids(
            p1,
            p2,
            tour=str(matches.tour[i]),
            surface=str(matches.surface[i]),
            best_of=int(matches.best_of[i]),
            date=date,
        )
        if result.serve_sum is None:
            fallbacks[result.reason] += 1
            continue
        sums[i] = result.serve_sum
        from_prior[i] = True
    return PriorSums(
        sums=sums,
        from_prior=from_prior,
        fallbacks={k: v for k, v in fallbacks.items() if v},
        newcomers=len(seen_newcomers),
    )


def realised_serve_sums(dataset: SlamDataset) -> FloatArray:
    """Per match: the share of serve points player 1 won + the share player 2 won (what p_a + p_b
    tried to predict), from the points of the match."""
    pts = dataset.points
    n = len(dataset.matches)
    p1_serves = pts.states[:, 6] == 1
    served = [
        np.bincount(pts.match_index[mask], minlength=n).astype(np.float64)
        for mask in (p1_serves, ~p1_serves)
    ]
    won = [
        np.bincount(pts.match_index[mask & pts.server_won], minlength=n).astype(np.float64)
        for mask in (p1_serves, ~p1_serves)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = won[0] / served[0] + won[1] / served[1]
    return result


def sum_rmse(realised: FloatArray, predicted: FloatArray, mask: BoolArray) -> float | None:
    """Root mean square error of predicted against realised sums over `mask` (finite rows)."""
    rows = mask & np.isfinite(realised)
    if not np.any(rows):
        return None
    return float(np.sqrt(np.mean((realised[rows] - predicted[rows]) ** 2)))
