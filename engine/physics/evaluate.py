"""Score the physics model on real matches: P(player 1 wins) before every point.

Three models, each a superset of the previous:

* ``fixed``  — the baseline: Pinnacle line, de-vigged, inverted to (p_a, p_b) with the tour/surface
  sum, held fixed for the whole match.
* ``shrink`` — the same start, then (p_a, p_b) updated point by point from the serve points
  observed so far with the Beta-prior shrinkage of `engine.physics.inplay`.
* ``inplay`` — ``shrink`` followed by the per-tour logit-slope recalibration (the default; the
  parameters live in engine.toml `[physics]`).

Everything is vectorised: one batched inversion per match format, one `p_match_batch` call per
format for all the points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

import numpy as np
import numpy.typing as npt

from engine.logs import get_logger
from engine.physics.calibration import PhysicsConfig, invert_prematch_batch
from engine.physics.devig import devig
from engine.physics.eval_data import SlamDataset, SlamMatches
from engine.physics.eval_metrics import score_forecasts
from engine.physics.inplay import recalibrate, shrink_serve_probability
from engine.physics.pricing import p_match_batch
from engine.physics.rules import FinalSetRule, MatchRules

FloatArray = npt.NDArray[np.float64]

ModelName = Literal["fixed", "shrink", "inplay"]
MODELS: Final[tuple[str, ...]] = get_args(ModelName)
TOUR_GROUPS: Final = ("ATP", "WTA")

_P_MIN: Final = 1e-6

log = get_logger("physics.evaluate")


@dataclass(frozen=True)
class PrematchArrays:
    """Per match: de-vigged P(player 1) and the calibrated serve-point probabilities."""

    p1: FloatArray
    pa: FloatArray
    pb: FloatArray


def match_rules(matches: SlamMatches) -> list[MatchRules]:
    """The MatchRules of every match (validated: a bad format names the field)."""
    cache: dict[tuple[int, str], MatchRules] = {}
    out = []
    for best_of, final_set in zip(
        matches.best_of.tolist(), matches.final_set_rule.tolist(), strict=True
    ):
        key = (int(best_of), str(final_set))
        if key not in cache:
            cache[key] = MatchRules(best_of=key[0], final_set=cast(FinalSetRule, key[1]))
        out.append(cache[key])
    return out


def _format_groups(matches: SlamMatches) -> dict[MatchRules, npt.NDArray[np.int64]]:
    """Match indices grouped by format, so each group is one batched chain call."""
    groups: dict[MatchRules, list[int]] = {}
    for i, rules in enumerate(match_rules(matches)):
        groups.setdefault(rules, []).append(i)
    return {rules: np.asarray(idx, dtype=np.int64) for rules, idx in groups.items()}


def table_serve_sums(matches: SlamMatches, config: PhysicsConfig) -> FloatArray:
    """p_a + p_b of every match from the tour/surface table."""
    return np.array(
        [
            config.serve_sum(tour, surface)
            for tour, surface in zip(matches.tour.tolist(), matches.surface.tolist(), strict=True)
        ],
        dtype=np.float64,
    )


def prematch_arrays(
    matches: SlamMatches, config: PhysicsConfig, serve_sums: FloatArray | None = None
) -> PrematchArrays:
    """De-vig every match's Pinnacle odds and invert the chain for (p_a, p_b).

    serve_sums: p_a + p_b per match (e.g. from the learned prior); default: the table's.
    """
    p1 = np.array(
        [
            devig(float(o1), float(o2), config.devig)[0]
            for o1, o2 in zip(matches.odds_p1.tolist(), matches.odds_p2.tolist(), strict=True)
        ],
        dtype=np.float64,
    )
    sums = table_serve_sums(matches, config) if serve_sums is None else serve_sums
    if sums.shape != (len(matches),):
        raise ValueError(f"serve_sums: expected {len(matches)} values, got {sums.shape}")
    pa = np.empty(len(matches), dtype=np.float64)
    pb = np.empty(len(matches), dtype=np.float64)
    for rules, idx in _format_groups(matches).items():
        pa[idx], pb[idx] = invert_prematch_batch(p1[idx], rules, sums[idx])
    return PrematchArrays(p1=p1, pa=pa, pb=pb)


def per_match_setting(matches: SlamMatches, by_tour: dict[str, float]) -> FloatArray:
    """Spread a per-tour setting over the matches (a tour missing from `by_tour` is an error)."""
    out = np.empty(len(matches), dtype=np.float64)
    for tour in np.unique(matches.tour).tolist():
        if tour not in by_tour:
            raise ValueError(f"tour: no in-play setting for {tour!r}")
        out[matches.tour == tour] = by_tour[tour]
    return out


def drop_unpriceable_matches(dataset: SlamDataset) -> SlamDataset:
    """Remove matches with any score the chain refuses (a data glitch), counting them.

    One cheap pass with fixed (p_a, p_b): tables are built once per format, so this costs a
    fraction of an evaluation, and one bad row cannot abort a whole run.
    """
    bad = np.zeros(len(dataset.matches), dtype=np.bool_)
    match_index = dataset.points.match_index
    for rules, idx in _format_groups(dataset.matches).items():
        in_group = np.zeros(len(dataset.matches), dtype=np.bool_)
        in_group[idx] = True
        rows = np.flatnonzero(in_group[match_index])
        try:
            p_match_batch(0.6, 0.6, rules, dataset.points.states[rows])
            continue
        except ValueError:
            pass
        for m in idx.tolist():
            match_rows = rows[match_index[rows] == m]
            try:
                p_match_batch(0.6, 0.6, rules, dataset.points.states[match_rows])
            except ValueError as exc:
                bad[m] = True
                log.warning(
                    "match_excluded_illegal_state",
                    match_id=str(dataset.matches.match_id[m]),
                    reason=str(exc),
                )
    excluded = dict(dataset.excluded)
    excluded["illegal_state"] = int(np.sum(bad))
    if not np.any(bad):
        return SlamDataset(dataset.matches, dataset.points, excluded)
    kept = dataset.subset_matches(~bad)
    return SlamDataset(kept.matches, kept.points, excluded)


def serve_probabilities(
    dataset: SlamDataset, prematch: PrematchArrays, strength: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(p_a, p_b) before every point, shrunk from the pre-match values with per-match strength."""
    pts = dataset.points
    k = strength[pts.match_index]
    pa = prematch.pa[pts.match_index].copy()
    pb = prematch.pb[pts.match_index].copy()
    for value in np.unique(k).tolist():
        rows = k == value
        pa[rows] = shrink_serve_probability(pa[rows], pts.won_a[rows], pts.served_a[rows], value)
        pb[rows] = shrink_serve_probability(pb[rows], pts.won_b[rows], pts.served_b[rows], value)
    return np.clip(pa, _P_MIN, 1.0 - _P_MIN), np.clip(pb, _P_MIN, 1.0 - _P_MIN)


def chain_probabilities(dataset: SlamDataset, pa: FloatArray, pb: FloatArray) -> FloatArray:
    """P(player 1 wins) from the Markov chain at every point's state, one batch per format."""
    out = np.empty(len(dataset.points), dtype=np.float64)
    match_index = dataset.points.match_index
    for rules, idx in _format_groups(dataset.matches).items():
        in_group = np.zeros(len(dataset.matches), dtype=np.bool_)
        in_group[idx] = True
        rows = np.flatnonzero(in_group[match_index])
        out[rows] = p_match_batch(
            np.ascontiguousarray(pa[rows]),
            np.ascontiguousarray(pb[rows]),
            rules,
            np.ascontiguousarray(dataset.points.states[rows]),
        )
    return out


def predict(
    dataset: SlamDataset,
    model: str,
    config: PhysicsConfig,
    prematch: PrematchArrays | None = None,
) -> FloatArray:
    """P(player 1 wins the match) before every point of `dataset` under the named model."""
    if model not in MODELS:
        raise ValueError(f"model: unknown {model!r}, expected one of {list(MODELS)}")
    prematch = prematch if prematch is not None else prematch_arrays(dataset.matches, config)
    tours = {tour: config.inplay(tour) for tour in np.unique(dataset.matches.tour).tolist()}
    if model == "fixed":
        strength = np.full(len(dataset.matches), math.inf)
    else:
        strength = per_match_setting(
            dataset.matches, {t: params.strength for t, params in tours.items()}
        )
    pa, pb = serve_probabilities(dataset, prematch, strength)
    p = chain_probabilities(dataset, pa, pb)
    if model == "inplay":
        slope = per_match_setting(dataset.matches, {t: params.slope for t, params in tours.items()})
        point_slope = slope[dataset.points.match_index]
        for value in np.unique(point_slope).tolist():
            rows = point_slope == value
            p[rows] = recalibrate(p[rows], float(value))
    return p


def _group_report(dataset: SlamDataset, p: FloatArray, mask_matches: Any) -> dict[str, Any]:
    n_matches = int(np.sum(mask_matches))
    if n_matches == 0:
        empty = dict.fromkeys(("log_loss", "brier", "accuracy", "calibration_slope"))
        return {"n_matches": 0, "n_states": 0, **empty, "reliability": None}
    rows = mask_matches[dataset.points.match_index]
    y = dataset.outcome()[rows]
    return {"n_matches": n_matches, **score_forecasts(p[rows], y)}


def evaluation_report(dataset: SlamDataset, p: FloatArray) -> dict[str, Any]:
    """Headline scores per tour (ATP, WTA) and overall."""
    if p.shape != (len(dataset.points),):
        raise ValueError(f"forecasts: expected {len(dataset.points)} values, got {p.shape}")
    report: dict[str, Any] = {}
    for tour in TOUR_GROUPS:
        report[tour] = _group_report(dataset, p, dataset.matches.tour == tour)
    report["overall"] = _group_report(dataset, p, np.ones(len(dataset.matches), dtype=np.bool_))
    return report
