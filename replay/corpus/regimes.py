"""When the simulated market is not in its normal state: MTOs, rain/bad-light stops, liquidity
collapses and spoof orders, as time windows of one match.

MTO and stoppage windows come from the match timeline; collapses and spoofs are Poisson over the
in-play period (`MarketParams.collapse_rate_per_h`, `spoof_rate_per_h`). A stoppage suspends the
market for its first minute (bad light: until 10 minutes before play resumes) and keeps it thin
until play resumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replay.corpus.params import MarketParams
from replay.corpus.timeline import Timeline

Span = tuple[float, float]


class Windows:
    """Time windows of one regime, for a membership test."""

    def __init__(self, spans: list[Span]) -> None:
        self.spans = sorted(spans)

    def active(self, t: float) -> bool:
        return any(start <= t < end for start, end in self.spans)


@dataclass(frozen=True, slots=True)
class Regimes:
    """The windows of every regime of one match."""

    mto: Windows
    thin: Windows
    suspended: list[Span]
    collapse: Windows
    spoofs: list[Span]

    def as_dict(self) -> dict[str, list[list[float]]]:
        def spans(windows: list[Span]) -> list[list[float]]:
            return [[round(a, 3), round(b, 3)] for a, b in windows]

        return {
            "mto": spans(self.mto.spans),
            "thin": spans(self.thin.spans),
            "suspended": spans(self.suspended),
            "collapse": spans(self.collapse.spans),
            "spoof": spans(self.spoofs),
        }


def plan_regimes(
    timeline: Timeline,
    inplay_ts: float,
    end_ts: float,
    params: MarketParams,
    rng: np.random.Generator,
) -> Regimes:
    """Windows for one match (draws from `rng` in a fixed order)."""
    mto = [(s.start_ts, s.end_ts) for s in timeline.stoppages if s.kind == "mto"]
    thin = []
    suspended = []
    for stop in timeline.stoppages:
        if stop.kind == "mto":
            continue
        if stop.kind == "bad_light":
            suspended.append((stop.start_ts, max(stop.start_ts + 60.0, stop.end_ts - 600.0)))
        else:
            first_minute = min(60.0, (stop.end_ts - stop.start_ts) / 3)
            suspended.append((stop.start_ts, stop.start_ts + first_minute))
        thin.append((stop.start_ts, stop.end_ts))
    hours = max(end_ts - inplay_ts, 0.0) / 3600.0
    collapses = []
    for _ in range(int(rng.poisson(params.collapse_rate_per_h * hours))):
        start = float(rng.uniform(inplay_ts, end_ts))
        collapses.append(
            (start, start + float(rng.uniform(params.collapse_min_s, params.collapse_max_s)))
        )
    spoofs = []
    for _ in range(int(rng.poisson(params.spoof_rate_per_h * hours))):
        start = float(rng.uniform(inplay_ts, end_ts))
        spoofs.append((start, start + float(rng.uniform(params.spoof_min_s, params.spoof_max_s))))
    return Regimes(
        mto=Windows(mto),
        thin=Windows(thin),
        suspended=suspended,
        collapse=Windows(collapses),
        spoofs=sorted(spoofs),
    )
