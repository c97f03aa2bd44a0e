"""A match's timeline: when each real point happened, plus the synthetic events the data lacks.

Point times come from the source clock (`elapsed_s`) where it moves forward, otherwise from the
fitted duration model. A point's score tick is stamped when the point ends (its start plus a
play time from the rally length), so a tick never precedes the next point's start.

Synthetic events (documented in params.EventParams, listed per match in match.json):
- MTO: placed at a changeover where the treated player's *real* serve results dropped most
  (win rate on their 24 serve points before minus the 24 after, a random pick among the three
  worst changeovers), so the recorded outcomes agree with the hidden-truth serve drop we assume.
- Rain / bad light: a suspension between two points; later points shift by the stoppage plus a
  warm-up.
- Inferred stoppages: a real clock gap of 10+ minutes becomes a suspend/resume ("other").
Real retirements become a retirement tick after the last point.

Times are Unix seconds. The scheduled start is synthetic (the data has dates, not times): a
local start between 11:00 and 19:00 on the match date, converted with each slam's UTC offset.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from engine.score.ticks import (
    MatchEnd,
    MatchStart,
    MtoEnd,
    MtoStart,
    Point,
    Resume,
    Retirement,
    ScoreTick,
    Suspend,
)
from replay.corpus.durations import DurationModel, gap_kinds
from replay.corpus.params import EventParams
from replay.corpus.slams import MatchInfo, MatchPoints

FloatArray = npt.NDArray[np.float64]

_UTC_OFFSET_H = {"ausopen": 11, "frenchopen": 2, "wimbledon": 1, "usopen": -4}
_MTO_WINDOW = 24
_MAX_CLOCK_STEP_S = 3600.0
_RAIN_WARMUP_S = 300.0
_MATCH_START_LEAD_S = 30.0


@dataclass(frozen=True, slots=True)
class Stoppage:
    """Play stopped between point `after_point` and the next one (0-based point index)."""

    kind: Literal["mto", "rain", "bad_light", "inferred"]
    after_point: int
    start_ts: float
    end_ts: float
    player: int | None = None  # the treated player for an MTO

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "after_point": self.after_point,
            "start_ts": round(float(self.start_ts), 3),
            "end_ts": round(float(self.end_ts), 3),
            "player": self.player,
            "synthetic": self.kind != "inferred",
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything time-related about one match, ready to become ticks and a market."""

    match_start_ts: float
    point_start_ts: FloatArray
    point_end_ts: FloatArray
    end_ts: float
    clock: Literal["source", "model", "mixed"]
    stoppages: tuple[Stoppage, ...] = field(default_factory=tuple)
    retirement_ts: float | None = None

    @property
    def mto(self) -> Stoppage | None:
        for stop in self.stoppages:
            if stop.kind == "mto":
                return stop
        return None


def scheduled_start(info: MatchInfo, rng: np.random.Generator) -> float:
    """A synthetic first-point time on the match date (local 11:00-19:00, 15-minute steps)."""
    date = dt.date.fromisoformat(info.match_date)
    minutes = 11 * 60 + 15 * int(rng.integers(0, 33))
    local = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC) + dt.timedelta(
        minutes=minutes
    )
    return (local - dt.timedelta(hours=_UTC_OFFSET_H.get(info.slam, 0))).timestamp()


def _play_time(rally: float, gap: float) -> float:
    play = 3.0 + 1.3 * rally if math.isfinite(rally) and rally > 0 else 7.0
    return min(play, 0.6 * gap) if math.isfinite(gap) else play


def _point_gaps(
    info: MatchInfo, points: MatchPoints, model: DurationModel, rng: np.random.Generator
) -> tuple[FloatArray, str, list[int]]:
    """Gap after each point to the next start; also the clock source and real long stops."""
    n = len(points)
    kinds = gap_kinds(points)
    modelled = np.array([model.sample(rng, info.tour, kind) for kind in kinds])
    elapsed = points.elapsed_s
    if n < 2 or not np.any(np.isfinite(elapsed)):
        return modelled, "model", []
    real = np.diff(elapsed)
    gaps = modelled.copy()
    usable = np.isfinite(real) & (real > 0.0) & (real <= _MAX_CLOCK_STEP_S)
    gaps[:-1][usable] = real[usable]
    clock = "source" if bool(np.all(usable)) else "mixed"
    return gaps, clock, [int(i) for i in np.flatnonzero(usable & (real >= 600.0))]


def _serve_rate(points: MatchPoints, player: int, indices: range) -> float:
    won = served = 0
    for i in indices:
        if points.server[i] == player:
            served += 1
            won += int(points.winner[i] == player)
        if served == _MTO_WINDOW:
            break
    return won / served if served else math.nan


def _serve_rate_before(points: MatchPoints, player: int, k: int) -> float:
    return _serve_rate(points, player, range(k, -1, -1))


def choose_mto_point(
    points: MatchPoints, player: int, rng: np.random.Generator, from_share: float = 0.0
) -> int | None:
    """The changeover (point index) where `player`'s real serve results dropped the most."""
    n = len(points)
    candidates = [
        k
        for k in range(max(20, int(from_share * n)), n - 20)
        if points.changeover[k] or points.set_end[k]
    ]
    scored = []
    for k in candidates:
        drop = _serve_rate_before(points, player, k) - _serve_rate(points, player, range(k + 1, n))
        if math.isfinite(drop):
            scored.append((drop, k))
    if not scored:
        return None
    scored.sort(key=lambda item: (-item[0], item[1]))
    top = scored[: min(3, len(scored))]
    return top[int(rng.integers(0, len(top)))][1]


def _plan_stoppages(
    info: MatchInfo, points: MatchPoints, params: EventParams, rng: np.random.Generator
) -> list[tuple[str, int, float, int | None]]:
    """(kind, after_point, duration, player) for the synthetic events of this match."""
    n = len(points)
    plans: list[tuple[str, int, float, int | None]] = []
    # Draw every random number in a fixed order so one event's parameters never shift another's.
    u_mto, u_rain, u_light = rng.random(3)
    mto_player = int(rng.integers(1, 3))
    mto_len = float(rng.uniform(params.mto_min_s, params.mto_max_s))
    rain_len = float(
        np.clip(
            params.rain_median_s * math.exp(params.rain_log_sd * rng.standard_normal()),
            params.rain_min_s,
            params.rain_max_s,
        )
    )
    rain_at = int(rng.integers(1, max(2, n - 1)))
    if info.retired:
        if u_mto < params.mto_before_retirement_prob:
            loser = 3 - info.winner
            k = choose_mto_point(points, loser, rng, from_share=0.4)
            if k is not None:
                plans.append(("mto", k, mto_len, loser))
    elif u_mto < params.mto_match_prob:
        k = choose_mto_point(points, mto_player, rng)
        if k is not None:
            plans.append(("mto", k, mto_len, mto_player))
    rainy = u_rain < params.rain_match_prob.get(info.slam, 0.0) and n > 2
    if rainy and all(plan[1] != rain_at for plan in plans):
        plans.append(("rain", rain_at, rain_len, None))
    if info.slam in ("frenchopen", "wimbledon") and u_light < params.bad_light_match_prob:
        last_set = [k for k in range(n - 1) if points.set_end[k]]
        if last_set and all(plan[1] != last_set[-1] for plan in plans):
            plans.append(("bad_light", last_set[-1], params.bad_light_s, None))
    return plans


def build_timeline(
    info: MatchInfo,
    points: MatchPoints,
    model: DurationModel,
    params: EventParams,
    rng: np.random.Generator,
) -> Timeline:
    """Point start/end times and stoppages for one match."""
    n = len(points)
    start = scheduled_start(info, rng)
    gaps, clock, real_stops = _point_gaps(info, points, model, rng)
    plans = _plan_stoppages(info, points, params, rng)
    shift_after: dict[int, float] = {}
    for kind, k, length, _player in plans:
        warmup = _RAIN_WARMUP_S if kind in ("rain", "bad_light") else 0.0
        shift_after[k] = shift_after.get(k, 0.0) + length + warmup + 20.0
    starts = np.empty(n)
    ends = np.empty(n)
    t = start
    for i in range(n):
        starts[i] = t
        ends[i] = t + _play_time(points.rally[i], gaps[i])
        t += gaps[i] + shift_after.get(i, 0.0)
    stoppages: list[Stoppage] = []
    for kind, k, length, player in sorted(plans, key=lambda plan: plan[1]):
        begin = ends[k] + 20.0
        stoppages.append(Stoppage(kind, k, begin, begin + length, player))  # type: ignore[arg-type]
    stoppages.extend(
        Stoppage("inferred", k, ends[k] + 5.0, starts[k + 1] - 60.0)
        for k in real_stops
        if k not in shift_after
    )
    stoppages.sort(key=lambda stop: stop.start_ts)
    retirement_ts = ends[-1] + 30.0 if info.retired else None
    end_ts = (retirement_ts if retirement_ts is not None else ends[-1]) + 1.0
    return Timeline(
        match_start_ts=start - _MATCH_START_LEAD_S,
        point_start_ts=starts,
        point_end_ts=ends,
        end_ts=end_ts,
        clock=clock,  # type: ignore[arg-type]
        stoppages=tuple(stoppages),
        retirement_ts=retirement_ts,
    )


def build_ticks(info: MatchInfo, points: MatchPoints, timeline: Timeline) -> list[ScoreTick]:
    """Score ticks (schema v1) in sequence order: start, points, stoppages, retirement, end."""
    mid = info.match_id
    timed: list[tuple[float, int, Any]] = []
    order = 0

    def add(ts: float, make: Any) -> None:
        nonlocal order
        timed.append((round(float(ts), 3), order, make))
        order += 1

    add(
        timeline.match_start_ts,
        lambda seq, ts: MatchStart(
            mid,
            seq,
            ts,
            info.rules,
            (info.player1, info.player2),
            info.first_server,  # type: ignore[arg-type]
        ),
    )
    stops_after: dict[int, list[Stoppage]] = {}
    for stop in timeline.stoppages:
        stops_after.setdefault(stop.after_point, []).append(stop)
    for i in range(len(points)):
        server, winner = int(points.server[i]), int(points.winner[i])
        add(timeline.point_end_ts[i], lambda seq, ts, s=server, w=winner: Point(mid, seq, ts, s, w))
        for stop in stops_after.get(i, ()):
            if stop.kind == "mto":
                player = stop.player
                add(stop.start_ts, lambda seq, ts, p=player: MtoStart(mid, seq, ts, p))
                add(stop.end_ts, lambda seq, ts, p=player: MtoEnd(mid, seq, ts, p))
            else:
                reason = {"rain": "rain", "bad_light": "bad_light"}.get(stop.kind, "other")
                add(stop.start_ts, lambda seq, ts, r=reason: Suspend(mid, seq, ts, r))
                add(stop.end_ts, lambda seq, ts: Resume(mid, seq, ts))
    if timeline.retirement_ts is not None:
        loser = 3 - info.winner
        add(timeline.retirement_ts, lambda seq, ts: Retirement(mid, seq, ts, loser))  # type: ignore[arg-type]
    add(timeline.end_ts, lambda seq, ts: MatchEnd(mid, seq, ts, info.winner))  # type: ignore[arg-type]
    timed.sort(key=lambda item: (item[0], item[1]))
    return [make(seq, ts) for seq, (ts, _order, make) in enumerate(timed, start=1)]
