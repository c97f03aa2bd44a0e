"""Player-history store for the serve-point prior: "features for server X vs returner Y on surface
S, tour T, best-of B, for a match starting on date D", from tour-level results.

Built once from a results directory; it folds matches (with `PlayerHistory`, the same code that made
the training rows) strictly in finishing order and only those from tournaments that started before
D, so a query never sees the match it prices or anything after it. Queries must come in date order
(the evaluation sorts them; a live engine only moves forward); an earlier date is refused.

Players are Sackmann ids. The live engine only knows names, so `player_id` resolves a name by a
normalised exact match (accents, case, punctuation ignored) within a tour; a name that is unknown or
shared by two ids gives None and the caller falls back to the serve-sum table.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from engine.features.prior_history import (
    SURFACES,
    Match,
    PlayerHistory,
    read_matches,
    tour_means,
)

TOURS = ("atp", "wta")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise_player_name(name: str) -> str:
    """'Jo-Wilfried  Tsonga' / 'jo wilfried tsonga' / 'Tsónga' spellings -> 'jo wilfried tsonga'."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", ascii_only.lower()).strip()


def _name_index(matches: list[Match]) -> dict[tuple[str, str], set[str]]:
    index: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in matches:
        for name, player in ((m.winner_name, m.winner), (m.loser_name, m.loser)):
            key = normalise_player_name(name)
            if key:
                index[(m.tour, key)].add(player)
    return index


class PriorStore:
    """Player histories folded up to a date, plus a name -> Sackmann id lookup."""

    def __init__(self, matches: list[Match], tour_serve: Mapping[str, float]) -> None:
        """matches: finishing order (as `read_matches` returns them)."""
        self._matches = matches
        self._next = 0
        self._date = 0
        self.history = PlayerHistory(tour_serve)
        self._names = _name_index(matches)

    @property
    def date(self) -> int:
        """Matches of tournaments that started before this date (YYYYMMDD) are folded in."""
        return self._date

    def advance_to(self, date: int) -> int:
        """Fold every match of a tournament that started before `date`; returns how many."""
        if date < self._date:
            raise ValueError(f"date: {date} is before the store's date {self._date}")
        start = self._next
        while self._next < len(self._matches) and self._matches[self._next].date < date:
            self.history.fold(self._matches[self._next])
            self._next += 1
        self._date = date
        return self._next - start

    def features(
        self, server: str, returner: str, *, tour: str, surface: str, best_of: int, date: int
    ) -> list[float]:
        """The prior's features for `server` serving to `returner` in a match starting `date`."""
        tour, surface = tour.strip().lower(), surface.strip().lower()
        if tour not in TOURS:
            raise ValueError(f"tour: unknown {tour!r}, expected one of {list(TOURS)}")
        if surface not in SURFACES:
            raise ValueError(f"surface: unknown {surface!r}, expected one of {list(SURFACES)}")
        self.advance_to(date)
        return self.history.features(server, returner, tour=tour, surface=surface, best_of=best_of)

    def knows(self, player: str) -> bool:
        """True when the player has at least one folded match."""
        return self.history.knows(player)

    def player_id(self, name: str, tour: str) -> str | None:
        """Sackmann id for a name on a tour (normalised exact match); unknown or ambiguous: None."""
        ids = self._names.get((tour.strip().lower(), normalise_player_name(name)))
        if ids is None or len(ids) != 1:
            return None
        return next(iter(ids))

    def name_is_ambiguous(self, name: str, tour: str) -> bool:
        ids = self._names.get((tour.strip().lower(), normalise_player_name(name)), set())
        return len(ids) > 1


def load_prior_store(
    results_dir: Path,
    *,
    tour_serve: Mapping[str, float] | None = None,
    tour_serve_until: int | None = None,
    until: int | None = None,
) -> PriorStore:
    """Read `*_matches_YYYY.csv.gz` and build a store.

    tour_serve: the tour serve-point means the prior was trained with (the shrinkage target must be
    the training one, else the features drift from what the model saw); when not recorded, they
    are recomputed from the results up to `tour_serve_until`, the prior's last training year,
    exactly as training did.
    until: keep only matches of tournaments that started before this date (YYYYMMDD); the store
    is then folded up to it.
    """
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results directory not found: {results_dir}")
    matches = read_matches(results_dir)
    means = dict(tour_serve) if tour_serve is not None else tour_means(matches, tour_serve_until)
    if until is not None:
        matches = [m for m in matches if m.date < until]
    store = PriorStore(matches, means)
    if until is not None:
        store.advance_to(until)
    return store
