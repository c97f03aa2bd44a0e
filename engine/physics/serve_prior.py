"""Prior-supplied serve sums: player store -> learned serve-point prior -> p_a + p_b for a match.

The pre-match inversion needs p_a + p_b (how serve-dominated the match will be). The tour/surface
table gives every match the same level; the prior (DESIGN.md §4) predicts each player's serve-point
probability against this opponent from surface Elo and rolling serve/return statistics, so two big
servers get a higher sum than two baseliners. Only the sum is taken from it: the gap still comes
from the market's line.

Cold path: once per match, in the engine and in the slam evaluation alike. A match the prior
cannot price (names unknown or ambiguous, no earlier match, a date before the store's) returns None
with a reason; the caller uses the table and the reason is counted here and logged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.features.prior_store import PriorStore, load_prior_store
from engine.logs import get_logger
from engine.models.prior import PriorRunner, load_prior, prior_tour_serve, prior_train_until
from engine.physics.calibration import PhysicsConfig, prematch_serve_sum, prior_serve_sum

log = get_logger("physics.serve_prior")

FloatArray = npt.NDArray[np.float64]
_DAY_S: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class PriorSum:
    """A prior-supplied sum, or None and why not."""

    serve_sum: float | None
    reason: str  # "prior" when used, else the fallback reason
    p_a: float | None = None
    p_b: float | None = None


def date_of(ts: float) -> int:
    """Unix seconds -> YYYYMMDD (UTC): the match's start date for the store."""
    day = datetime.fromtimestamp(ts, tz=UTC)
    return day.year * 10000 + day.month * 100 + day.day


class ServeSumPrior:
    """The prior model and the player store behind `serve_sum_source = "prior"`."""

    def __init__(self, runner: PriorRunner, store: PriorStore, band: tuple[float, float]) -> None:
        self.runner = runner
        self.store = store
        self.band = band
        self.used = 0
        self.fallbacks: Counter[str] = Counter()

    def predict_pairs(self, features_a: FloatArray, features_b: FloatArray) -> FloatArray:
        """(N, 2) serve-point probabilities: column 0 player 1 serving, column 1 player 2."""
        n = features_a.shape[0]
        out = self.runner.predict(np.concatenate([features_a, features_b]).astype(np.float32))
        return np.stack([out[:n], out[n:]], axis=1).astype(np.float64)

    def sum_for_ids(
        self, p1: str, p2: str, *, tour: str, surface: str, best_of: int, date: int
    ) -> PriorSum:
        """Prior sum for two Sackmann ids in a match starting `date` (YYYYMMDD)."""
        if date < self.store.date:
            return self._fallback("date_before_store", date=date, store_date=self.store.date)
        self.store.advance_to(date)
        for player in (p1, p2):
            if not self.store.knows(player):
                return self._fallback("no_history", player=player, date=date)
        try:
            rows = np.asarray(
                [
                    self.store.features(
                        s, r, tour=tour, surface=surface, best_of=best_of, date=date
                    )
                    for s, r in ((p1, p2), (p2, p1))
                ],
                dtype=np.float64,
            )
            pair = self.predict_pairs(rows[:1], rows[1:])[0]
            total = prior_serve_sum(float(pair[0]), float(pair[1]), self.band)
        except ValueError as exc:
            return self._fallback("prior_failed", error=str(exc))
        self.used += 1
        return PriorSum(total, "prior", float(pair[0]), float(pair[1]))

    def sum_for_names(
        self,
        names: tuple[str, str] | None,
        *,
        tour: str,
        surface: str,
        best_of: int,
        date: int,
    ) -> PriorSum:
        """Prior sum for the players as the live engine names them (player 1 first)."""
        if names is None or not all(names):
            return self._fallback("no_player_names")
        ids = []
        for name in names:
            found = self.store.player_id(name, tour)
            if found is None:
                reason = (
                    "ambiguous_name" if self.store.name_is_ambiguous(name, tour) else "unknown_name"
                )
                return self._fallback(reason, player=name, tour=tour)
            ids.append(found)
        return self.sum_for_ids(
            ids[0], ids[1], tour=tour, surface=surface, best_of=best_of, date=date
        )

    def _fallback(self, reason: str, **fields: object) -> PriorSum:
        self.fallbacks[reason] += 1
        log.warning(
            "serve_sum_prior_fallback", reason=reason, count=self.fallbacks[reason], **fields
        )
        return PriorSum(None, reason)


def match_serve_sum(
    prior: ServeSumPrior | None,
    physics: PhysicsConfig,
    *,
    tour: str,
    surface: str,
    best_of: int,
    names: tuple[str, str] | None,
    ts: float,
) -> tuple[float, str]:
    """(p_a + p_b, where it came from) for a match starting at `ts` (Unix seconds): the prior's
    when configured and able, else the tour/surface table ("table", or the fallback reason).

    The store is read as of `prior_lag_days` before the match: only tournaments that started that
    long ago are folded, so none of them can still be running (no result from the future, not
    even in a replay over a full results folder)."""
    table = physics.serve_sum(tour, surface)
    if prior is None:
        return table, "table"
    as_of = date_of(ts - physics.prior_lag_days * _DAY_S)
    found = prior.sum_for_names(names, tour=tour, surface=surface, best_of=best_of, date=as_of)
    return prematch_serve_sum(table, found.serve_sum), found.reason


def open_serve_sum_prior(
    model_path: Path, results_dir: Path, band: tuple[float, float]
) -> ServeSumPrior:
    """Load the prior model and build its player store from every result in `results_dir`, with
    the tour serve means the model was trained with (a few seconds)."""
    runner = load_prior(model_path)
    store = load_prior_store(
        results_dir,
        tour_serve=prior_tour_serve(runner.metadata),
        tour_serve_until=prior_train_until(runner.metadata),
    )
    log.info("serve_sum_prior_loaded", model=str(model_path), results=str(results_dir), band=band)
    return ServeSumPrior(runner, store, band)


def load_serve_sum_prior(config: PhysicsConfig) -> ServeSumPrior | None:
    """The prior behind `serve_sum_source = "prior"`; None for "table"."""
    if config.serve_sum_source != "prior":
        return None
    return open_serve_sum_prior(
        Path(config.prior_model), Path(config.prior_results_dir), config.prior_sum_band
    )
