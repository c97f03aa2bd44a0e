"""Where the simulated market's mid price is at any moment: a documented model of a real market.

In logit space, the market's level chases a target that moves at market events:
- after each real point, the market's fair value (truth with the MTO effect learned gradually,
  `truth.FairPaths.market`) through a favourite–longshot bias: logit_mkt = λ · logit_fair with
  λ < 1, so longshots look shorter than they are;
- on a break of serve, an over-reaction: an extra `break_overreaction` × the fair move, which
  decays by `overreaction_decay` at each later point;
- at an MTO, the anticipated share of its effect; at a retirement, the winner's limit price.
The level starts moving `lag` seconds after the score tick (log-normal) and closes the gap
exponentially with time constant `reprice_tau_s`. On top sits Ornstein–Uhlenbeck noise (noisier
during an MTO): between points the book's best prices flicker a tick as in the real file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from replay.corpus.params import MarketParams
from replay.corpus.slams import MatchPoints
from replay.corpus.timeline import Timeline
from replay.corpus.truth import FairPaths

# The favourite never shortens past 1.01 in a live book; keep logits finite.
_P_EDGE = 0.003


def logit(p: float) -> float:
    q = min(max(p, _P_EDGE), 1.0 - _P_EDGE)
    return math.log(q / (1.0 - q))


def inv_logit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """At `ts` the market starts repricing towards `target` (a logit)."""

    ts: float
    target: float


def _breaks(points: MatchPoints) -> list[bool]:
    return [
        bool(points.game_end[i] and points.winner[i] != points.server[i])
        for i in range(len(points))
    ]


def market_events(
    points: MatchPoints,
    timeline: Timeline,
    fair: FairPaths,
    *,
    winner: int,
    params: MarketParams,
    rng: np.random.Generator,
) -> tuple[float, list[MarketEvent]]:
    """The pre-play logit and the repricing events of one match, in time order."""
    lam = params.flb_lambda
    mto = timeline.mto
    breaks = _breaks(points)
    n = len(points)
    lags = params.lag_median_s * np.exp(params.lag_log_sd * rng.standard_normal(n + 2))
    events: list[MarketEvent] = []
    overreaction = 0.0
    previous = lam * logit(float(fair.market[0]))
    last_ts = -math.inf
    for i in range(n):
        value = fair.market[i + 1]
        if mto is not None and mto.after_point == i:
            value = fair.no_mto[i + 1]  # the time-out has not been called yet
        target = lam * logit(float(value))
        overreaction *= params.overreaction_decay
        if breaks[i]:
            overreaction += params.break_overreaction * (target - previous)
        previous = target
        ts = max(float(timeline.point_end_ts[i] + lags[i]), last_ts + 0.01)
        last_ts = ts
        events.append(MarketEvent(ts, target + overreaction))
        if mto is not None and mto.after_point == i:
            mto_target = lam * logit(float(fair.market[i + 1]))
            events.append(MarketEvent(mto.start_ts + float(lags[n]), mto_target + overreaction))
            previous = mto_target
    if timeline.retirement_ts is not None:
        limit = logit(1.0) if winner == 1 else logit(0.0)
        events.append(MarketEvent(timeline.retirement_ts + float(lags[n + 1]), limit))
    events.sort(key=lambda e: e.ts)
    return lam * logit(float(fair.market[0])), events


class PricePath:
    """Sequential evaluation of the market mid (probability that runner 1 wins)."""

    __slots__ = (
        "_events",
        "_level",
        "_next",
        "_noise",
        "_rng",
        "_sigma",
        "_t",
        "_target",
        "_tau",
        "_theta",
    )

    def __init__(
        self,
        initial: float,
        events: list[MarketEvent],
        params: MarketParams,
        rng: np.random.Generator,
    ) -> None:
        self._events = events
        self._next = 0
        self._level = initial
        self._target = initial
        self._t: float | None = None
        self._noise = 0.0
        self._rng = rng
        self._tau = params.reprice_tau_s
        self._theta = params.noise_half_life_s / math.log(2.0)
        self._sigma = params.noise_sd_per_sqrt_s

    def _relax(self, dt: float) -> None:
        if dt > 0.0:
            self._level = self._target + (self._level - self._target) * math.exp(-dt / self._tau)

    def advance(self, t: float, noise_mult: float = 1.0) -> float:
        """The mid probability at time `t` (calls must not go back in time)."""
        previous = t if self._t is None else self._t
        cursor = previous
        while self._next < len(self._events) and self._events[self._next].ts <= t:
            event = self._events[self._next]
            self._relax(event.ts - cursor)
            cursor = max(cursor, event.ts)
            self._target = event.target
            self._next += 1
        self._relax(t - cursor)
        dt = t - previous
        if dt > 0.0:
            decay = math.exp(-dt / self._theta)
            sd = self._sigma * noise_mult * math.sqrt(self._theta / 2.0 * (1.0 - decay * decay))
            self._noise = self._noise * decay + sd * float(self._rng.standard_normal())
        self._t = t
        return inv_logit(self._level + self._noise)

    @property
    def settled_target(self) -> float:
        """The current target as a probability (no noise)."""
        return inv_logit(self._target)
