"""The market simulator: one match's Betfair MATCH_ODDS stream, aligned in time with its ticks.

Phases: pre-play (`preplay_s`, slower updates, bet delay 0) → a 0.3 s suspension as the market
turns in play (as in the real file) → in play (bet delay 5) → suspended just after the last
point (or at a retirement) → CLOSED with WINNER/LOSER 40–100 s later (real file: 79 s).
Tennis markets are not suspended at each point (the real file never is); they are suspended for
the first minute of a rain stoppage (then trade thinly) and for most of a bad-light stop.

Each message is one of: a quote move (the mid from `pricepath` left the favourite's quotes:
both runners' best prices move, crossed levels are removed, new ones filled), a trade at a best
price (size from the real file's trade sizes), or ladder churn (a best or deeper level resized,
added or removed, keeping each side's fill at the real file's share). Regimes change the mix:
an MTO widens spreads, thins depth and makes the price noisier; liquidity collapses (random,
`collapse_rate_per_h`) pull 90% of the depth and widen spreads; spoofs are large orders that sit
1–4 ticks behind the best for a few seconds and vanish.

The intended best prices/sizes after every message can be kept (`keep_trace`) so a test can check
that a market cache replaying the file sees exactly the simulator's book.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.market.ticks import LADDER, N_TICKS, round_to_tick, tick_index
from replay.corpus.params import MarketParams
from replay.corpus.pricepath import PricePath, market_events
from replay.corpus.regimes import plan_regimes
from replay.corpus.simbook import SimBook
from replay.corpus.slams import MatchInfo, MatchPoints
from replay.corpus.stream import market_definition, mcm_line
from replay.corpus.timeline import Timeline
from replay.corpus.truth import FairPaths

BestView = tuple[tuple[float, float, float, float], ...]

_FAV_KINDS = ("fb", "fl")
_DOG_KINDS = ("db", "dl")


@dataclass
class SimulatedMarket:
    """The stream lines of one match, plus what the simulator intended after each line."""

    market_id: str
    selection_ids: tuple[int, int]
    lines: list[bytes]
    inplay_ts: float
    close_ts: float
    trace: list[tuple[int, BestView]] = field(default_factory=list)
    regimes: dict[str, list[list[float]]] = field(default_factory=dict)


def _interp_quantile(table: tuple[float, ...], u: float) -> float:
    """Inverse CDF from equally spaced quantiles (piecewise linear)."""
    position = u * (len(table) - 1)
    low = int(position)
    if low >= len(table) - 1:
        return table[-1]
    frac = position - low
    return table[low] * (1.0 - frac) + table[low + 1] * frac


def _trade_size(table: tuple[float, ...], u: float) -> float:
    """Trade-size inverse CDF from the 10/25/50/75/90/99% quantiles, log-linear in between."""
    probs = (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)
    logs = [math.log(v) for v in table]
    if u <= probs[0]:
        return table[0] * (u / probs[0] + 0.1)
    for k in range(1, len(probs)):
        if u <= probs[k]:
            frac = (u - probs[k - 1]) / (probs[k] - probs[k - 1])
            return math.exp(logs[k - 1] * (1 - frac) + logs[k] * frac)
    return table[-1]


class MarketSimulator:
    """Builds one match's stream (see the module docstring)."""

    def __init__(
        self,
        info: MatchInfo,
        points: MatchPoints,
        timeline: Timeline,
        fair: FairPaths,
        *,
        params: MarketParams,
        rng: np.random.Generator,
        market_id: str,
        selection_ids: tuple[int, int],
    ) -> None:
        self.info = info
        self.timeline = timeline
        self.p = params
        self.rng = rng
        self.market_id = market_id
        self.ids = selection_ids
        self.book = SimBook(selection_ids)
        liquidity = params.round_liquidity.get(info.round, 0.6)
        self.liquidity = liquidity * (params.wta_liquidity if info.tour == "WTA" else 1.0)
        initial, events = market_events(
            points, timeline, fair, winner=info.winner, params=params, rng=rng
        )
        self.path = PricePath(initial, events, params, rng)
        first_point = float(timeline.point_start_ts[0])
        lo, hi = params.inplay_before_first_point_s
        self.inplay_ts = first_point - float(rng.uniform(lo, hi))
        self.open_ts = self.inplay_ts - params.preplay_s
        self.end_ts = (
            timeline.retirement_ts + 0.2
            if timeline.retirement_ts is not None
            else timeline.end_ts + 0.5
        )
        lo, hi = params.close_after_end_s
        self.close_ts = self.end_ts + float(rng.uniform(lo, hi))
        self.scheduled_ts = first_point - 600.0
        self.regime = plan_regimes(timeline, self.inplay_ts, self.end_ts, params, rng)
        self.mto = self.regime.mto
        self.thin = self.regime.thin
        self.collapse = self.regime.collapse
        self.spoofs = self.regime.spoofs
        self.suspended_spans = self.regime.suspended
        self.quotes: dict[int, tuple[int, int]] = {}
        self.fav = selection_ids[0]
        self.clk = 1000 + int(rng.integers(0, 1000))
        self.version = 1_000_000 + int(rng.integers(0, 1_000_000))
        self.lines: list[bytes] = []
        self.trace: list[tuple[int, BestView]] = []

    def regimes(self) -> dict[str, list[list[float]]]:
        return self.regime.as_dict()

    # ------------------------------------------------------------------------- sizes

    def _payout_median(self, kind: str) -> float:
        p = self.p
        return {
            "fb": p.payout_fav_back,
            "fl": p.payout_fav_lay,
            "db": p.payout_dog_back,
            "dl": p.payout_dog_lay,
        }[kind]

    def _depth_mult(self, t: float) -> float:
        mult = self.liquidity
        if self.mto.active(t):
            mult *= self.p.mto_depth_mult
        if self.collapse.active(t) or self.thin.active(t):
            mult *= self.p.collapse_depth_mult if self.collapse.active(t) else self.p.mto_depth_mult
        return mult

    def _size(self, kind: str, index: int, t: float, deep: bool) -> float:
        payout = self._payout_median(kind) * self._depth_mult(t)
        if deep:
            payout *= self.p.deep_payout_ratio
        payout *= math.exp(self.p.payout_log_sd * float(self.rng.standard_normal()))
        size = payout / (LADDER[index] - 1.0)
        return min(max(size, 1.0), 250_000.0)

    def _kind(self, sel: int, side: str) -> str:
        role = "f" if sel == self.fav else "d"
        return role + ("b" if side == "atb" else "l")

    def _fill(self, kind: str) -> float:
        p = self.p
        return {
            "fb": p.fill_fav_back,
            "fl": p.fill_fav_lay,
            "db": p.fill_dog_back,
            "dl": p.fill_dog_lay,
        }[kind]

    # ------------------------------------------------------------------------- quotes

    def _spread_extra(self, t: float) -> int:
        extra = 0
        if self.mto.active(t) or self.thin.active(t):
            extra += self.p.mto_spread_extra
        if self.collapse.active(t):
            extra += self.p.collapse_spread_extra
        if self.rng.random() < self.p.fav_extra_spread_prob:
            extra += 1 + int(self.rng.integers(0, 2))
        return extra

    def _fav_quotes(self, prob: float, t: float) -> tuple[int, int]:
        fair_price = 1.0 / prob
        back = tick_index(round_to_tick(max(fair_price, 1.01), "down"))
        back = min(back, N_TICKS - 2)
        lay = min(back + 1 + self._spread_extra(t), N_TICKS - 1)
        return back, lay

    def _dog_quotes(self, dog_prob: float) -> tuple[int, int]:
        """The thin side's quotes: a spread drawn from the real file's dog spreads (ticks), placed
        so that it contains the dog's fair price (offset uniform)."""
        p = self.p
        fair_price = min(max(1.0 / max(dog_prob, 1e-3), 1.01), 1000.0)
        anchor = tick_index(round_to_tick(fair_price, "down"))
        u = float(self.rng.random())
        spread = p.dog_spread_ticks[-1]
        cumulative = 0.0
        for ticks, share in zip(p.dog_spread_ticks, p.dog_spread_pmf, strict=True):
            cumulative += share
            if u < cumulative:
                spread = ticks
                break
        back = anchor - int(self.rng.integers(0, spread))
        back = min(max(back, 0), N_TICKS - 2)
        lay = min(back + spread, N_TICKS - 1)
        return back, lay

    def _place_quotes(self, sel: int, back: int, lay: int, t: float) -> None:
        """Move one runner's best prices: remove crossed levels, fill the new best and the gap."""
        book = self.book
        runner = book.runners[sel]
        old_back = runner.best_back()
        old_lay = runner.best_lay()
        for index in [i for i in runner.back if i > back]:
            book.set_level(sel, "atb", index, 0.0)
        for index in [i for i in runner.lay if i < lay]:
            book.set_level(sel, "atl", index, 0.0)
        kb, kl = self._kind(sel, "atb"), self._kind(sel, "atl")
        if back not in runner.back:
            book.set_level(sel, "atb", back, self._size(kb, back, t, deep=False))
        if lay not in runner.lay:
            book.set_level(sel, "atl", lay, self._size(kl, lay, t, deep=False))
        fill_b, fill_l = self._fill(kb), self._fill(kl)
        start_b = back - 1 if old_back is None else min(old_back, back - 1)
        stop_b = (
            max(back - self.p.depth_ticks, -1)
            if old_back is None
            else max(old_back, back - self.p.depth_ticks)
        )
        for index in range(back - 1, max(stop_b, -1), -1):
            fresh = index > start_b or old_back is None
            if fresh and index not in runner.back and self.rng.random() < fill_b:
                book.set_level(sel, "atb", index, self._size(kb, index, t, deep=True))
        stop_l = (
            lay + self.p.depth_ticks if old_lay is None else min(old_lay, lay + self.p.depth_ticks)
        )
        for index in range(lay + 1, min(stop_l, N_TICKS - 1) + 1):
            if index not in runner.lay and self.rng.random() < fill_l:
                book.set_level(sel, "atl", index, self._size(kl, index, t, deep=True))

    def _requote(self, prob: float, t: float, force: bool = False) -> bool:
        """Move the quotes when the mid left the favourite's quotes; True when they moved."""
        fav = self.ids[0] if prob >= 0.5 else self.ids[1]
        fav_prob = prob if fav == self.ids[0] else 1.0 - prob
        current = self.quotes.get(fav)
        if not force and fav == self.fav and current is not None:
            back, lay = current
            if LADDER[back] <= min(max(1.0 / fav_prob, LADDER[0]), LADDER[-1]) <= LADDER[lay]:
                return False
        self.fav = fav
        dog = self.ids[1] if fav == self.ids[0] else self.ids[0]
        fav_back, fav_lay = self._fav_quotes(fav_prob, t)
        dog_back, dog_lay = self._dog_quotes(1.0 - fav_prob)
        self._place_quotes(fav, fav_back, fav_lay, t)
        self._place_quotes(dog, dog_back, dog_lay, t)
        self.quotes = {fav: (fav_back, fav_lay), dog: (dog_back, dog_lay)}
        return True

    # ------------------------------------------------------------------------- churn and trades

    def _pick_runner_side(self) -> tuple[int, str]:
        dog = self.ids[1] if self.fav == self.ids[0] else self.ids[0]
        sel = self.fav if self.rng.random() < self.p.fav_touch_prob else dog
        side = "atb" if self.rng.random() < 0.5 else "atl"
        return sel, side

    def _trade(self, t: float) -> bool:
        sel, side = self._pick_runner_side()
        runner = self.book.runners[sel]
        best = runner.best_back() if side == "atb" else runner.best_lay()
        if best is None:
            return False
        available = runner.side(side)[best]
        size = _trade_size(self.p.trade_size_quantiles, float(self.rng.random())) * self.liquidity
        size = round(min(size, 0.9 * available), 2)
        if size < 0.5:
            return False
        self.book.set_level(sel, side, best, available - size)
        self.book.trade(sel, best, size)
        return True

    def _churn(self, t: float) -> bool:
        sel, side = self._pick_runner_side()
        runner = self.book.runners[sel]
        levels = runner.side(side)
        best = runner.best_back() if side == "atb" else runner.best_lay()
        if best is None:
            return False
        kind = self._kind(sel, side)
        if self.rng.random() < self.p.best_touch_prob:
            old = levels[best]
            if self.rng.random() < 0.5:
                new = old * math.exp(0.5 * float(self.rng.standard_normal()))
            else:
                new = self._size(kind, best, t, deep=False)
            self.book.set_level(sel, side, best, max(new, 1.0))
            return True
        distance = min(1 + int(self.rng.geometric(0.2)), self.p.depth_ticks)
        index = best - distance if side == "atb" else best + distance
        if not 0 <= index < N_TICKS:
            return False
        if self.rng.random() < self._fill(kind):
            self.book.set_level(sel, side, index, self._size(kind, index, t, deep=True))
            return True
        if index in levels:
            self.book.set_level(sel, side, index, 0.0)
            return True
        return False

    # ------------------------------------------------------------------------- output

    def _emit(
        self, t: float, definition: dict[str, Any] | None = None, image: bool = False
    ) -> None:
        rc = self.book.flush(image=image)
        self.clk += 1
        self.lines.append(
            mcm_line(
                self.market_id, self.clk, round(t * 1000.0), rc, definition=definition, image=image
            )
        )
        self.trace.append((round(t * 1000.0), self.book.best_view()))

    def _definition(self, t: float, status: str, in_play: bool) -> dict[str, Any]:
        self.version += 1 + int(self.rng.integers(0, 300))
        closed = status == "CLOSED"
        return market_definition(
            self.info,
            self.ids,
            scheduled_ts=self.scheduled_ts,
            status=status,
            in_play=in_play,
            version=self.version,
            winner=self.info.winner if closed else None,
            settled_ts=t - 30.0 if closed else None,
        )

    def _status_events(self) -> list[tuple[float, str, bool]]:
        events = [
            (self.inplay_ts, "SUSPENDED", False),
            (self.inplay_ts + 0.3, "OPEN", True),
        ]
        for start, end in self.suspended_spans:
            if start < self.end_ts:
                events.append((start, "SUSPENDED", True))
                events.append((min(end, self.end_ts - 0.1), "OPEN", True))
        events.append((self.end_ts, "SUSPENDED", True))
        events.append((self.close_ts, "CLOSED", True))
        return sorted(events)

    def _rate(self, t: float, in_play: bool) -> float:
        if not in_play:
            return self.p.preplay_rate_mult
        if self.thin.active(t) or self.collapse.active(t):
            return self.p.suspended_rate_mult
        return 1.0

    def _noise_mult(self, t: float) -> float:
        return self.p.mto_noise_mult if self.mto.active(t) else 1.0

    def run(self) -> SimulatedMarket:
        t = self.open_ts
        prob = self.path.advance(t)
        self._requote(prob, t, force=True)
        self._emit(t, self._definition(t, "OPEN", False), image=True)
        queue: list[tuple[float, int, str, Any]] = []
        order = 0
        for ts, status, in_play in self._status_events():
            heapq.heappush(queue, (ts, order, "status", (status, in_play)))
            order += 1
        for start, end in self.spoofs:
            heapq.heappush(queue, (start, order, "spoof", (start, end)))
            order += 1
        for windows, mult in (
            (self.collapse.spans, self.p.collapse_depth_mult),
            (self.mto.spans, self.p.mto_depth_mult),
        ):
            for start, _end in windows:
                heapq.heappush(queue, (start, order, "pull", mult))
                order += 1
        for _start, end in (*self.collapse.spans, *self.mto.spans, *self.thin.spans):
            # the regime is over: quotes go back to normal width at once
            heapq.heappush(queue, (end, order, "restore", None))
            order += 1
        status, in_play = "OPEN", False
        next_msg = t + self._dt(t, in_play)
        active_spoofs: list[tuple[float, int, str, int, float]] = []
        while True:
            spoof_end = min((s[0] for s in active_spoofs), default=math.inf)
            queued = queue[0][0] if queue else math.inf
            t = min(next_msg, queued, spoof_end)
            if t == math.inf:
                break
            if t == queued:
                _ts, _o, what, payload = heapq.heappop(queue)
                if what == "status":
                    status, in_play = payload
                    if status == "OPEN":
                        self._requote(self.path.advance(t, self._noise_mult(t)), t, force=True)
                    self._emit(t, self._definition(t, status, in_play))
                    if status == "CLOSED":
                        break
                elif status == "OPEN" and what in ("pull", "restore"):
                    if what == "pull":
                        self._pull_depth(payload)
                    self._requote(self.path.advance(t, self._noise_mult(t)), t, force=True)
                    if self.book.has_pending:
                        self._emit(t)
                elif status == "OPEN":
                    spoof = self._start_spoof(t, payload[1])
                    if spoof is not None:
                        active_spoofs.append(spoof)
                        self._emit(t)
                continue
            if t == spoof_end:
                active_spoofs.sort()
                self._end_spoof(active_spoofs.pop(0))
                if status == "OPEN" and self.book.has_pending:
                    self._emit(t)
                continue
            next_msg = t + self._dt(t, in_play)
            if status != "OPEN":
                continue
            self._step(t)
            if self.book.has_pending:
                self._emit(t)
        return SimulatedMarket(
            market_id=self.market_id,
            selection_ids=self.ids,
            lines=self.lines,
            inplay_ts=self.inplay_ts,
            close_ts=self.close_ts,
            trace=self.trace,
            regimes=self.regimes(),
        )

    def _dt(self, t: float, in_play: bool) -> float:
        base = _interp_quantile(self.p.dt_quantiles, float(self.rng.random()))
        return round(base / self._rate(t, in_play), 3) or 0.001

    def _step(self, t: float) -> None:
        prob = self.path.advance(t, self._noise_mult(t))
        if self._requote(prob, t):
            return
        if self.rng.random() < self.p.trade_prob and self._trade(t):
            return
        for _ in range(4):
            if self._churn(t):
                break
        while self.rng.random() < self.p.extra_levels_prob:
            self._churn(t)

    def _pull_depth(self, mult: float) -> None:
        """A liquidity collapse or an MTO starts: resting orders near the best are pulled."""
        for sel in self.ids:
            runner = self.book.runners[sel]
            for side in ("atb", "atl"):
                levels = runner.side(side)
                best = runner.best_back() if side == "atb" else runner.best_lay()
                if best is None:
                    continue
                for index, size in list(levels.items()):
                    if abs(index - best) <= 10:
                        self.book.set_level(sel, side, index, max(size * mult, 1.0))

    def _start_spoof(self, t: float, end: float) -> tuple[float, int, str, int, float] | None:
        sel, side = self._pick_runner_side()
        runner = self.book.runners[sel]
        best = runner.best_back() if side == "atb" else runner.best_lay()
        if best is None:
            return None
        distance = 1 + int(self.rng.integers(0, 4))
        index = best - distance if side == "atb" else best + distance
        if not 0 <= index < N_TICKS:
            return None
        payout = (
            self._payout_median(self._kind(sel, side)) * self.liquidity * self.p.spoof_payout_mult
        )
        size = round(payout / (LADDER[index] - 1.0), 2)
        levels = runner.side(side)
        self.book.set_level(sel, side, index, levels.get(index, 0.0) + size)
        return (end, sel, side, index, size)

    def _end_spoof(self, spoof: tuple[float, int, str, int, float]) -> None:
        _end, sel, side, index, size = spoof
        levels = self.book.runners[sel].side(side)
        if index not in levels:
            return
        remaining = levels[index] - size
        best = (
            self.book.runners[sel].best_back()
            if side == "atb"
            else self.book.runners[sel].best_lay()
        )
        if index == best:
            remaining = max(remaining, 1.0)  # never empty the best level: the quote owns it
        self.book.set_level(sel, side, index, remaining if remaining >= 1.0 else 0.0)


def simulate_market(
    info: MatchInfo,
    points: MatchPoints,
    timeline: Timeline,
    fair: FairPaths,
    *,
    params: MarketParams,
    rng: np.random.Generator,
    market_id: str,
    selection_ids: tuple[int, int],
) -> SimulatedMarket:
    """Run the simulator for one match."""
    return MarketSimulator(
        info,
        points,
        timeline,
        fair,
        params=params,
        rng=rng,
        market_id=market_id,
        selection_ids=selection_ids,
    ).run()
