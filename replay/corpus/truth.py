"""The hidden truth behind a simulated market, and the fair price it implies after every point.

The bookmakers' pre-match line is de-vigged (power method) and inverted through the physics chain
to serve-point probabilities (pa, pb) with the tour/surface serve sum (engine.physics.calibration).
The *truth* is that line plus per-match Gaussian noise (the line is an estimate, not the truth),
and, after a synthetic MTO, the treated player's serve-point probability minus
`EventParams.mto_serve_drop` for the rest of the match.

The point outcomes are real, so the truth cannot change who won a point; it only drives the fair
price the simulated market follows. The market learns an MTO's effect gradually (its belief
prices `mto_anticipation` of the drop at the time-out and the rest over the treated player's next
`mto_learning_points` serve points); the truth has it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.physics.calibration import PhysicsConfig, calibrate_from_odds
from engine.physics.pricing import p_match_batch
from engine.score.scoring import Score
from replay.corpus.params import EventParams, MarketParams
from replay.corpus.slams import MatchInfo, MatchPoints

FloatArray = npt.NDArray[np.float64]

_P_MIN = 0.05
_P_MAX = 0.95
_SERVE_SUMS = PhysicsConfig()


@dataclass(frozen=True, slots=True)
class HiddenTruth:
    """Serve-point probabilities: the de-vigged line and the truth the market follows."""

    p1_prematch: float
    pa_line: float
    pb_line: float
    pa: float
    pb: float
    mto_player: int | None
    mto_after_point: int | None
    mto_drop: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "p1_prematch_devig": round(self.p1_prematch, 6),
            "pa_line": round(self.pa_line, 6),
            "pb_line": round(self.pb_line, 6),
            "pa_true": round(self.pa, 6),
            "pb_true": round(self.pb, 6),
            "mto_player": self.mto_player,
            "mto_after_point": self.mto_after_point,
            "mto_serve_drop": self.mto_drop if self.mto_player else 0.0,
        }


def hidden_truth(
    info: MatchInfo,
    market: MarketParams,
    events: EventParams,
    mto: tuple[int, int] | None,
    rng: np.random.Generator,
) -> HiddenTruth:
    """Draw the truth for one match; `mto` is (player, after_point) of a synthetic MTO."""
    serve_sum = _SERVE_SUMS.serve_sum(info.tour, info.surface)
    line = calibrate_from_odds(info.odds_p1, info.odds_p2, info.rules, serve_sum, "power")
    noise = rng.standard_normal(2) * market.truth_noise_sd
    pa = float(np.clip(line.pa + noise[0], _P_MIN, _P_MAX))
    pb = float(np.clip(line.pb + noise[1], _P_MIN, _P_MAX))
    return HiddenTruth(
        p1_prematch=line.p1_prematch,
        pa_line=line.pa,
        pb_line=line.pb,
        pa=pa,
        pb=pb,
        mto_player=mto[0] if mto else None,
        mto_after_point=mto[1] if mto else None,
        mto_drop=events.mto_serve_drop,
    )


def score_rows(info: MatchInfo, points: MatchPoints) -> tuple[np.ndarray, int]:
    """Pricing-state rows (sets, games, points, server) before each point and after the last;
    returns the rows of the states that exist and the index of the first finished one (or n+1)."""
    score = Score(info.rules, info.first_server)
    rows = np.zeros((len(points) + 1, 7), dtype=np.int64)
    finished_at = len(points) + 1
    for i in range(len(points) + 1):
        if score.is_complete:
            finished_at = i
            break
        (s1, s2), (g1, g2), (p1, p2), server, _tb = score.key()
        rows[i] = (s1, s2, g1, g2, p1, p2, server)
        if i < len(points):
            score.play_point(int(points.winner[i]))
    return rows, finished_at


def _serve_probs(
    truth: HiddenTruth, points: MatchPoints, drop_share: FloatArray
) -> tuple[FloatArray, FloatArray]:
    n = len(points) + 1
    pa = np.full(n, truth.pa)
    pb = np.full(n, truth.pb)
    if truth.mto_player == 1:
        pa = np.clip(pa - truth.mto_drop * drop_share, _P_MIN, _P_MAX)
    elif truth.mto_player == 2:
        pb = np.clip(pb - truth.mto_drop * drop_share, _P_MIN, _P_MAX)
    return pa, pb


def _drop_shares(
    truth: HiddenTruth, points: MatchPoints, market: MarketParams
) -> tuple[FloatArray, FloatArray]:
    """Share of the MTO drop in force in state i (before point i), for the truth and the market."""
    n = len(points) + 1
    true_share = np.zeros(n)
    market_share = np.zeros(n)
    if truth.mto_player is None or truth.mto_after_point is None:
        return true_share, market_share
    k = truth.mto_after_point
    true_share[k + 1 :] = 1.0
    seen = 0
    for i in range(k + 1, n):
        learned = seen / max(market.mto_learning_points, 1)
        market_share[i] = min(
            1.0, market.mto_anticipation + (1 - market.mto_anticipation) * learned
        )
        if i < len(points) and points.server[i] == truth.mto_player:
            seen += 1
    return true_share, market_share


@dataclass(frozen=True, slots=True)
class FairPaths:
    """P(player 1 wins) in every state 0..n (state i = before point i, n = after the last point):
    under the truth, under the market's belief, and with no MTO effect at all."""

    truth: FloatArray
    market: FloatArray
    no_mto: FloatArray


def fair_paths(
    info: MatchInfo, points: MatchPoints, truth: HiddenTruth, market: MarketParams
) -> FairPaths:
    """The three price paths of one match; a finished state is 1 or 0."""
    rows, finished_at = score_rows(info, points)
    true_share, market_share = _drop_shares(truth, points, market)
    out = []
    for share in (true_share, market_share, np.zeros_like(true_share)):
        pa, pb = _serve_probs(truth, points, share)
        values = np.empty(len(points) + 1)
        live = slice(0, finished_at)
        values[live] = p_match_batch(pa[live], pb[live], info.rules, rows[live])
        values[finished_at:] = 1.0 if info.winner == 1 else 0.0
        out.append(values)
    return FairPaths(truth=out[0], market=out[1], no_mto=out[2])
