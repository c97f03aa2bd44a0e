"""Tour-level results -> one row per (match, server): the prior's pre-match features (in
engine.features.prior_schema order) and the serve outcome. Lives in engine so that training and a
live player store compute the features with the same code.

Matches are processed in the order they finished: by tournament start date, tournament, round
(qualifying < R128 < … < F) and match number. A match's features are read from the state BEFORE
the match is folded in, so they only ever use earlier matches (the data README's rule).

State per player: overall and per-surface Elo (K = 250 / (n + 5)^0.4, FiveThirtyEight style) and
exponentially decayed serve / return point counts (overall and per surface), shrunk to the tour
average when read.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from engine.features.prior_schema import PRIOR_DIM

ROUND_ORDER: Final = {
    "Q1": 0, "Q2": 1, "Q3": 2, "Q4": 3, "ER": 4, "R128": 5, "R64": 6, "R32": 7,
    "R16": 8, "RR": 9, "QF": 10, "SF": 11, "BR": 12, "F": 13,
}  # fmt: skip
SURFACES: Final = ("hard", "clay", "grass", "carpet")
DECAY: Final = 0.97  # per match played by the player: ~23-match half-life
SHRINK_POINTS: Final = 300.0
MIN_SERVE_POINTS: Final = 20
ELO_START: Final = 1500.0


@dataclass(slots=True)
class _Counts:
    won: float = 0.0
    played: float = 0.0

    def add(self, won: int, played: int) -> None:
        self.won = self.won * DECAY + won
        self.played = self.played * DECAY + played

    def share(self, prior: float) -> float:
        return (self.won + SHRINK_POINTS * prior) / (self.played + SHRINK_POINTS)


@dataclass(slots=True)
class _Player:
    elo: float = ELO_START
    matches: int = 0
    surface_elo: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(SURFACES, ELO_START)
    )
    surface_matches: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SURFACES, 0))
    serve: _Counts = field(default_factory=_Counts)
    ret: _Counts = field(default_factory=_Counts)
    surface_serve: dict[str, _Counts] = field(default_factory=lambda: defaultdict(_Counts))
    surface_ret: dict[str, _Counts] = field(default_factory=lambda: defaultdict(_Counts))


@dataclass(frozen=True, slots=True)
class ServeRows:
    """features (R, len(FEATURES)) float32, won/played serve points (R,), year (R,)."""

    features: np.ndarray
    won: np.ndarray
    played: np.ndarray
    year: np.ndarray


@dataclass(frozen=True, slots=True)
class Match:
    tour: str
    date: int
    surface: str
    best_of: int
    winner: str
    loser: str
    w_won: int
    w_svpt: int
    l_won: int
    l_svpt: int
    winner_name: str = ""
    loser_name: str = ""


def _int(value: str) -> int | None:
    try:
        return int(float(value))
    except ValueError:
        return None


_SERVE_KEYS: Final = ("w_1stWon", "w_2ndWon", "w_svpt", "l_1stWon", "l_2ndWon", "l_svpt")


def _parse_row(row: dict[str, str], tour: str) -> tuple[tuple[int, str, int, int], Match] | None:
    """(finishing-order key, match), or None for a row without surface, date or serve stats."""
    surface = row["surface"].strip().lower()
    date = _int(row["tourney_date"])
    numbers = [_int(row[k]) for k in _SERVE_KEYS]
    if surface not in SURFACES or date is None or None in numbers:
        return None
    w1, w2, w_svpt, l1, l2, l_svpt = (n or 0 for n in numbers)
    match = Match(
        tour=tour,
        date=date,
        surface=surface,
        best_of=_int(row["best_of"]) or 3,
        winner=row["winner_id"],
        loser=row["loser_id"],
        w_won=w1 + w2,
        w_svpt=w_svpt,
        l_won=l1 + l2,
        l_svpt=l_svpt,
        winner_name=row.get("winner_name", "") or "",
        loser_name=row.get("loser_name", "") or "",
    )
    order = (date, row["tourney_id"], ROUND_ORDER.get(row["round"], 9), _int(row["match_num"]) or 0)
    return order, match


def read_matches(results_dir: Path, years: range | None = None) -> list[Match]:
    """Every usable match of both tours (optionally only some years), in finishing order."""
    files = sorted(
        path
        for path in results_dir.glob("*_matches_*.csv.gz")
        if years is None or int(path.name.split("_")[-1][:4]) in years
    )
    if not files:
        raise FileNotFoundError(f"no *_matches_YYYY.csv.gz files in {results_dir}")
    keyed: list[tuple[tuple[int, str, int, int], Match]] = []
    for path in files:
        tour = "wta" if path.name.startswith("wta") else "atp"
        with gzip.open(path, "rt", newline="") as handle:
            for row in csv.DictReader(handle):
                parsed = _parse_row(row, tour)
                if parsed is not None:
                    keyed.append(parsed)
    keyed.sort(key=lambda item: item[0])
    return [m for _, m in keyed]


def _k(matches: int) -> float:
    return 250.0 / float((matches + 5) ** 0.4)


def _expected(a: float, b: float) -> float:
    return 1.0 / (1.0 + 10 ** ((b - a) / 400.0))


def _features(
    server: _Player, returner: _Player, *, tour: str, surface: str, best_of: int, tour_serve: float
) -> list[float]:
    srv = server.serve.share(tour_serve)
    ret = returner.ret.share(1.0 - tour_serve)
    return [
        (server.surface_elo[surface] - returner.surface_elo[surface]) / 400.0,
        (server.elo - returner.elo) / 400.0,
        srv,
        server.surface_serve[surface].share(srv),
        ret,
        returner.surface_ret[surface].share(ret),
        math.log1p(server.matches) / 5.0,
        math.log1p(returner.matches) / 5.0,
        float(tour == "wta"),
        float(best_of == 5),
        *(float(surface == s) for s in SURFACES),
    ]


def _update(players: dict[str, _Player], m: Match) -> None:
    w, lo = players[m.winner], players[m.loser]
    e = _expected(w.elo, lo.elo)
    w.elo, lo.elo = w.elo + _k(w.matches) * (1 - e), lo.elo - _k(lo.matches) * (1 - e)
    es = _expected(w.surface_elo[m.surface], lo.surface_elo[m.surface])
    w.surface_elo[m.surface] += _k(w.surface_matches[m.surface]) * (1 - es)
    lo.surface_elo[m.surface] -= _k(lo.surface_matches[m.surface]) * (1 - es)
    for p in (w, lo):
        p.matches += 1
        p.surface_matches[m.surface] += 1
    w.serve.add(m.w_won, m.w_svpt)
    lo.serve.add(m.l_won, m.l_svpt)
    w.ret.add(m.l_svpt - m.l_won, m.l_svpt)
    lo.ret.add(m.w_svpt - m.w_won, m.w_svpt)
    w.surface_serve[m.surface].add(m.w_won, m.w_svpt)
    lo.surface_serve[m.surface].add(m.l_won, m.l_svpt)
    w.surface_ret[m.surface].add(m.l_svpt - m.l_won, m.l_svpt)
    lo.surface_ret[m.surface].add(m.w_svpt - m.w_won, m.w_svpt)


class PlayerHistory:
    """Every player's Elo and decayed serve/return counts after the matches folded so far.

    The one implementation of the fold: training walks it over all results (features of a match,
    then fold it in), the live player store folds results up to a date and then only reads.
    """

    def __init__(self, tour_serve: Mapping[str, float]) -> None:
        self.tour_serve = dict(tour_serve)
        self._players: dict[str, _Player] = defaultdict(_Player)
        self.folded = 0
        self.last_date: int | None = None

    def knows(self, player: str) -> bool:
        """True once the player has a folded match (else features are the newcomer defaults)."""
        return player in self._players

    def features(
        self, server: str, returner: str, *, tour: str, surface: str, best_of: int
    ) -> list[float]:
        """The prior's features (PRIOR_FEATURES order) for `server` serving to `returner` now.

        tour: "atp"/"wta", surface: one of SURFACES (lower case). An unknown player reads as a
        newcomer (start Elo, tour-average serve and return) without being stored.
        """
        if tour not in self.tour_serve:
            raise ValueError(f"tour: no tour serve mean for {tour!r}")
        if surface not in SURFACES:
            raise ValueError(f"surface: unknown {surface!r}, expected one of {list(SURFACES)}")
        srv = self._players.get(server) or _Player()
        ret = self._players.get(returner) or _Player()
        return _features(
            srv, ret, tour=tour, surface=surface, best_of=best_of, tour_serve=self.tour_serve[tour]
        )

    def match_features(self, server: str, returner: str, m: Match) -> list[float]:
        return self.features(server, returner, tour=m.tour, surface=m.surface, best_of=m.best_of)

    def fold(self, m: Match) -> bool:
        """Fold one finished match in (False when its serve counts are inconsistent)."""
        self.last_date = m.date
        if not (0 <= m.w_won <= m.w_svpt and 0 <= m.l_won <= m.l_svpt):
            return False
        _update(self._players, m)
        self.folded += 1
        return True


def _tour_means(matches: list[Match]) -> dict[str, float]:
    won: dict[str, float] = defaultdict(float)
    played: dict[str, float] = defaultdict(float)
    for m in matches:
        won[m.tour] += m.w_won + m.l_won
        played[m.tour] += m.w_svpt + m.l_svpt
    return {tour: won[tour] / played[tour] for tour in won}


def iter_serve_rows(
    matches: list[Match], tour_serve: dict[str, float]
) -> Iterator[tuple[list[float], int, int, int]]:
    """(features, won, played, year) for each side of each match, then fold the match in."""
    history = PlayerHistory(tour_serve)
    for m in matches:
        year = m.date // 10000
        if m.w_svpt >= MIN_SERVE_POINTS and 0 <= m.w_won <= m.w_svpt:
            yield history.match_features(m.winner, m.loser, m), m.w_won, m.w_svpt, year
        if m.l_svpt >= MIN_SERVE_POINTS and 0 <= m.l_won <= m.l_svpt:
            yield history.match_features(m.loser, m.winner, m), m.l_won, m.l_svpt, year
        history.fold(m)


def serve_rows(matches: list[Match], tour_serve: dict[str, float]) -> ServeRows:
    """Rows (PRIOR_FEATURES order) for every side of every match with enough serve points."""
    feats, won, played, year = [], [], [], []
    for f, w, p, y in iter_serve_rows(matches, tour_serve):
        feats.append(f)
        won.append(w)
        played.append(p)
        year.append(y)
    features = np.asarray(feats, dtype=np.float32).reshape(-1, PRIOR_DIM)
    return ServeRows(
        features=features,
        won=np.asarray(won, dtype=np.float32),
        played=np.asarray(played, dtype=np.float32),
        year=np.asarray(year, dtype=np.int16),
    )


def rows_hash(rows: ServeRows) -> str:
    """sha256 over the rows' arrays: identifies the data a prior was trained on."""
    digest = hashlib.sha256()
    for arr in (rows.features, rows.won, rows.played, rows.year):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()


def tour_means(matches: list[Match], last_year: int | None = None) -> dict[str, float]:
    """Serve-point share per tour over the matches up to `last_year` (the training years), so
    the shrinkage target never sees validation or test years."""
    kept = [m for m in matches if last_year is None or m.date // 10000 <= last_year]
    return _tour_means(kept)
