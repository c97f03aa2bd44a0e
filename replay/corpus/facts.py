"""Stylized facts of the in-play portion of a Betfair MATCH_ODDS stream file.

The market simulator is calibrated against one real in-play tennis file; this module computes the
same statistics on any stream file (real or simulated) so the two can be compared in a table and
asserted in a test. Only messages while the market is OPEN and in play count. Statistics are
chosen to be comparable across matches with different prices: spreads are in ticks and in
probability points, sizes as payout (size × (price − 1)), ladder fill as the share of the 10 ticks
behind the best level that carry size.

"fav" is the runner with the lowest best back price at that message (the liquid side of a tennis
book); "dog" is the other one. Price volatility uses runner 1's win probability read from the fav's
book (its mid, or one minus it), sampled on a 10 s / 60 s grid: the liquid side's one-tick
flicker is what a trader sees, the thin side's wide spread would only add noise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from adapters.betfair.historical import iter_lines
from engine.market.ladder import PriceLadder
from engine.market.ticks import LADDER, N_TICKS

_FILL_TICKS = 10


@dataclass(frozen=True, slots=True)
class StylizedFacts:
    """One stream file's in-play statistics (see the module docstring for definitions)."""

    inplay_s: float
    messages: int
    msgs_per_s: float
    dt_median_s: float
    levels_per_msg: float
    trade_msg_frac: float
    fav_spread_mean_ticks: float
    fav_spread_1tick_frac: float
    dog_spread_median_ticks: float
    dog_spread_mean_ticks: float
    fav_spread_prob_median: float
    fav_back_payout_median: float
    fav_lay_payout_median: float
    dog_back_payout_median: float
    dog_lay_payout_median: float
    fav_back_fill10: float
    fav_lay_fill10: float
    dog_back_fill10: float
    dog_lay_fill10: float
    vol10_prob_std: float
    vol10_zero_frac: float
    vol60_prob_std: float
    best_changes_per_min: float
    overround_back_median: float
    traded_per_s: float
    suspensions_inplay: int

    def as_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}


FACT_NAMES: tuple[str, ...] = tuple(field.name for field in fields(StylizedFacts))


class _RunnerBook:
    __slots__ = ("back", "lay", "traded")

    def __init__(self) -> None:
        self.back = PriceLadder(descending=True)
        self.lay = PriceLadder(descending=False)
        self.traded: dict[float, float] = {}


def _fill(ladder: PriceLadder, best: int, step: int) -> float:
    """Share of the ticks behind `best` (up to 10, those that exist) that carry size."""
    present = 0
    count = 0
    for k in range(1, _FILL_TICKS + 1):
        index = best + step * k
        if not 0 <= index < N_TICKS:
            break
        count += 1
        if ladder.size_at_index(index) > 0.0:
            present += 1
    return present / count if count else math.nan


def _grid_changes(times: np.ndarray, values: np.ndarray, step: float) -> np.ndarray:
    if len(times) < 2 or times[-1] - times[0] < 2 * step:
        return np.zeros(0)
    grid = np.arange(times[0], times[-1], step)
    index = np.searchsorted(times, grid, side="right") - 1
    return np.diff(values[index])


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


class _Accumulator:
    """Per-message statistics gathered while replaying the in-play portion."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.levels: list[int] = []
        self.has_trade: list[bool] = []
        self.fav_spread: list[float] = []
        self.dog_spread: list[float] = []
        self.fav_spread_prob: list[float] = []
        self.payout: dict[str, list[float]] = {k: [] for k in ("fb", "fl", "db", "dl")}
        self.fill: dict[str, list[float]] = {k: [] for k in ("fb", "fl", "db", "dl")}
        self.mid_times: list[float] = []
        self.mids: list[float] = []
        self.fav_best: list[int] = []
        self.overround: list[float] = []
        self.traded = 0.0
        self.suspensions = 0

    def observe_book(self, t: float, books: dict[int, _RunnerBook], first: int | None) -> None:
        sides = []
        for book in books.values():
            back = book.back.best_index
            lay = book.lay.best_index
            if back is None or lay is None:
                return
            sides.append((back, lay, book))
        if len(sides) != 2:
            return
        sides.sort(key=lambda item: item[0])
        (fb, fl, fav), (db, dl, dog) = sides
        self.fav_spread.append(float(fl - fb))
        self.dog_spread.append(float(dl - db))
        self.fav_spread_prob.append(1.0 / LADDER[fb] - 1.0 / LADDER[fl])
        for key, ladder, best in (
            ("fb", fav.back, fb),
            ("fl", fav.lay, fl),
            ("db", dog.back, db),
            ("dl", dog.lay, dl),
        ):
            self.payout[key].append(ladder.size_at_index(best) * (LADDER[best] - 1.0))
            fill = _fill(ladder, best, -1 if ladder.descending else 1)
            if not math.isnan(fill):
                self.fill[key].append(fill)
        self.fav_best.append(fb)
        self.overround.append(1.0 / LADDER[fb] + 1.0 / LADDER[db])
        if first is not None and first in books:
            fav_mid = 0.5 * (1.0 / LADDER[fb] + 1.0 / LADDER[fl])
            self.mid_times.append(t)
            self.mids.append(fav_mid if books[first] is fav else 1.0 - fav_mid)

    def finish(self) -> StylizedFacts:
        times = np.asarray(self.times)
        duration = float(times[-1] - times[0]) if len(times) > 1 else 0.0
        mid_t = np.asarray(self.mid_times)
        mids = np.asarray(self.mids)
        d10 = _grid_changes(mid_t, mids, 10.0)
        d60 = _grid_changes(mid_t, mids, 60.0)
        best_changes = (
            int(np.count_nonzero(np.diff(np.asarray(self.fav_best)))) if self.fav_best else 0
        )
        per_s = 1.0 / duration if duration > 0 else math.nan
        return StylizedFacts(
            inplay_s=duration,
            messages=len(times),
            msgs_per_s=len(times) * per_s,
            dt_median_s=float(np.median(np.diff(times))) if len(times) > 1 else math.nan,
            levels_per_msg=_mean([float(x) for x in self.levels]),
            trade_msg_frac=_mean([float(x) for x in self.has_trade]),
            fav_spread_mean_ticks=_mean(self.fav_spread),
            fav_spread_1tick_frac=_mean([float(x == 1.0) for x in self.fav_spread]),
            dog_spread_median_ticks=_median(self.dog_spread),
            dog_spread_mean_ticks=_mean(self.dog_spread),
            fav_spread_prob_median=_median(self.fav_spread_prob),
            fav_back_payout_median=_median(self.payout["fb"]),
            fav_lay_payout_median=_median(self.payout["fl"]),
            dog_back_payout_median=_median(self.payout["db"]),
            dog_lay_payout_median=_median(self.payout["dl"]),
            fav_back_fill10=_mean(self.fill["fb"]),
            fav_lay_fill10=_mean(self.fill["fl"]),
            dog_back_fill10=_mean(self.fill["db"]),
            dog_lay_fill10=_mean(self.fill["dl"]),
            vol10_prob_std=float(d10.std()) if len(d10) else math.nan,
            vol10_zero_frac=float(np.mean(d10 == 0.0)) if len(d10) else math.nan,
            vol60_prob_std=float(d60.std()) if len(d60) else math.nan,
            best_changes_per_min=best_changes * per_s * 60.0,
            overround_back_median=_median(self.overround),
            traded_per_s=self.traded * per_s,
            suspensions_inplay=self.suspensions,
        )


def _apply_runner_change(change: dict[str, Any], book: _RunnerBook) -> tuple[int, float, bool]:
    """Apply one `rc` entry; returns (ladder levels touched, traded increment, had trades)."""
    levels = 0
    for key, ladder in (("atb", book.back), ("atl", book.lay)):
        rows = change.get(key)
        if rows:
            ladder.update(rows)
            levels += len(rows)
    traded = 0.0
    rows = change.get("trd")
    if rows:
        for price, size in rows:
            previous = book.traded.get(price, 0.0)
            if size > previous:
                traded += size - previous
            book.traded[price] = size
    return levels, traded, bool(rows)


def stylized_facts(path: str | Path) -> StylizedFacts:
    """Replay a stream file and compute its in-play stylized facts.

    Raises ValueError when the file has no in-play OPEN messages (nothing to compare).
    """
    books: dict[int, _RunnerBook] = {}
    first_runner: int | None = None
    in_play = False
    status = "OPEN"
    acc = _Accumulator()
    for _line_no, line in iter_lines(path):
        message = orjson.loads(line)
        if message.get("op") != "mcm":
            continue
        levels = 0
        traded = 0.0
        had_trade = False
        for market in message.get("mc") or ():
            if market.get("img"):
                books.clear()
            definition = market.get("marketDefinition")
            if definition:
                was_suspended = status == "SUSPENDED"
                status = definition.get("status", status)
                in_play = bool(definition.get("inPlay", in_play))
                runners = sorted(definition.get("runners", ()), key=lambda r: r["sortPriority"])
                if runners and first_runner is None:
                    first_runner = int(runners[0]["id"])
                if in_play and status == "SUSPENDED" and not was_suspended:
                    acc.suspensions += 1
            for change in market.get("rc") or ():
                book = books.setdefault(int(change["id"]), _RunnerBook())
                touched, volume, trade = _apply_runner_change(change, book)
                levels += touched
                traded += volume
                had_trade = had_trade or trade
        if not (in_play and status == "OPEN"):
            continue
        t = float(message["pt"]) / 1000.0
        acc.times.append(t)
        acc.levels.append(levels)
        acc.has_trade.append(had_trade)
        acc.traded += traded
        acc.observe_book(t, books, first_runner)
    if not acc.times:
        raise ValueError(f"{path}: no in-play OPEN messages")
    return acc.finish()
