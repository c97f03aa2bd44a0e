"""Pre-trade risk controls, run on every order, and the kill switch.

Checks run cheapest first and stop at the first failure; each rejection carries a `RejectReason`,
is counted and logged. Exposure is worst-case loss (positions.py): matched bets, plus every
unmatched order at its worst, plus the new order at its worst — so limits hold even if everything
resting gets matched at once.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.positions import OutcomeBook, PositionBook
from engine.execution.staking import liability_of, meets_minimum_stake
from engine.execution.types import MarketState, OrderRequest, Side
from engine.logs import get_logger
from engine.market.ticks import tick_index_or_none

log = get_logger("execution.risk")

MS_PER_DAY = 86_400_000
EXPOSURE_TOLERANCE = 1e-9  # the slack every limit comparison in `check` allows


class RejectReason(enum.StrEnum):
    """Why a pre-trade check refused an order."""

    KILL_SWITCH = "kill_switch"
    INVALID_SIZE = "invalid_size"
    BELOW_MIN_STAKE = "below_min_stake"
    PRICE_NOT_ON_LADDER = "price_not_on_ladder"
    MARKET_NOT_OPEN = "market_not_open"
    INPLAY_STATE = "inplay_state"
    ORDER_STAKE = "order_stake"
    ORDER_LIABILITY = "order_liability"
    SELECTION_EXPOSURE = "selection_exposure"
    MATCH_EXPOSURE = "match_exposure"
    TOTAL_EXPOSURE = "total_exposure"
    DAILY_LOSS = "daily_loss"
    ORDER_RATE = "order_rate"


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """Accepted, or refused with a reason and a human-readable detail."""

    reason: RejectReason | None = None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """The unmatched remainder of a live order, as the risk layer sees it."""

    market_id: str
    selection_id: int
    side: Side
    price: float
    remaining: float


@dataclass(frozen=True, slots=True)
class ExposureRoom:
    """What the rules leave for one more order on one market, before that order exists.

    `book` is the market's outcome book exactly as the exposure checks build it (matched bets plus
    every unmatched order at its worst, a copy); `selection_limit` applies to one selection's own
    worst case, `market_limit` to the market's worst case (the match and total limits minus what
    the other markets already use; negative when they are over; not worked out while blocked).
    `blocked` names a rule that refuses every order now (kill switch, market not OPEN, daily
    loss, order rate), else None.
    `liability_headroom` turns this into the largest order the check accepts.
    """

    book: OutcomeBook
    runner_ids: tuple[int, ...]
    selection_limit: float
    market_limit: float
    order_liability_limit: float
    order_stake_limit: float
    blocked: RejectReason | None = None


class KillSwitch:
    """Once engaged, every new order is refused until an operator resets it."""

    def __init__(self) -> None:
        self.engaged = False
        self.reason = ""
        self.engaged_at_ms = 0

    def engage(self, reason: str, now_ms: int) -> None:
        if not self.engaged:
            log.error("kill_switch_engaged", reason=reason)
        self.engaged, self.reason, self.engaged_at_ms = True, reason, now_ms

    def reset(self) -> None:
        log.warning("kill_switch_reset", previous_reason=self.reason)
        self.engaged, self.reason = False, ""


class RiskManager:
    """Holds the limits, the order-rate window, the daily P&L and the kill switch."""

    def __init__(
        self,
        config: RiskConfig,
        staking: StakingConfig,
        positions: PositionBook,
        now_ms: Callable[[], int],
        open_orders: Callable[[], Iterable[OpenOrder]] = tuple,
    ) -> None:
        """`open_orders` lists live unmatched remainders; the order manager binds its own."""
        self.config = config
        self.staking = staking
        self.positions = positions
        self.open_orders_source = open_orders
        self._now_ms = now_ms
        self.kill_switch = KillSwitch()
        self.rejections: Counter[RejectReason] = Counter()
        self._accepted_ms: deque[int] = deque()
        self._daily_pnl: dict[int, float] = {}

    # -- daily P&L --------------------------------------------------------------------------
    def record_realised(self, amount: float, at_ms: int | None = None) -> None:
        """Add settled P&L (net of commission) to its UTC day."""
        day = (self._now_ms() if at_ms is None else at_ms) // MS_PER_DAY
        self._daily_pnl[day] = self._daily_pnl.get(day, 0.0) + amount

    def realised_today(self) -> float:
        return self._daily_pnl.get(self._now_ms() // MS_PER_DAY, 0.0)

    # -- exposure ---------------------------------------------------------------------------
    def _market_book(
        self,
        market_id: str,
        extra: OrderRequest | None,
        open_orders: Iterable[OpenOrder] | None = None,
    ) -> OutcomeBook:
        """`open_orders`: a snapshot of the open orders to use instead of asking the source."""
        position = self.positions.markets.get(market_id)
        book = position.matched.copy() if position is not None else OutcomeBook()
        for order in self.open_orders_source() if open_orders is None else open_orders:
            if order.market_id == market_id and order.remaining > 0:
                book.add_unmatched_worst(
                    order.selection_id, order.side, order.price, order.remaining
                )
        if extra is not None:
            book.add_unmatched_worst(extra.selection_id, extra.side, extra.price, extra.size)
        return book

    def market_exposure(
        self,
        market_id: str,
        extra: OrderRequest | None = None,
        open_orders: Iterable[OpenOrder] | None = None,
    ) -> float:
        position = self.positions.markets.get(market_id)
        runners = position.runner_ids if position is not None else ()
        return self._market_book(market_id, extra, open_orders).worst_case(runners)

    def _markets(
        self, extra_market: str | None, open_orders: Iterable[OpenOrder] | None = None
    ) -> set[str]:
        markets = set(self.positions.markets)
        source = self.open_orders_source() if open_orders is None else open_orders
        markets.update(o.market_id for o in source)
        if extra_market is not None:
            markets.add(extra_market)
        return markets

    def _event_of(self, market_id: str, state: MarketState | None) -> str:
        if state is not None and state.market_id == market_id and state.event_id:
            return state.event_id
        position = self.positions.markets.get(market_id)
        return position.event_id if position is not None and position.event_id else market_id

    # -- head-room (what `check` would still accept) ----------------------------------------
    def exposure_room(
        self, market: MarketState, open_orders: Sequence[OpenOrder] | None = None
    ) -> ExposureRoom:
        """The room the rules of `check` leave on `market` now, without placing anything and
        without changing any state; `liability_headroom` sizes an order from it. `open_orders`:
        the open orders if the caller already listed them (they are listed once either way)."""
        cfg = self.config
        snapshot = tuple(self.open_orders_source()) if open_orders is None else open_orders
        blocked: RejectReason | None = None
        window_start = self._now_ms() - int(cfg.order_window_s * 1000)
        if self.kill_switch.engaged:
            blocked = RejectReason.KILL_SWITCH
        elif market.status != "OPEN":
            blocked = RejectReason.MARKET_NOT_OPEN
        elif self.realised_today() <= -cfg.daily_loss_limit:
            blocked = RejectReason.DAILY_LOSS
        elif sum(1 for t in self._accepted_ms if t > window_start) >= cfg.max_orders_per_window:
            blocked = RejectReason.ORDER_RATE
        position = self.positions.markets.get(market.market_id)
        runners = position.runner_ids if position is not None and position.runner_ids else ()
        event = self._event_of(market.market_id, market)
        match_others = total_others = 0.0
        for market_id in self._markets(None, snapshot) if blocked is None else ():
            if market_id == market.market_id:
                continue
            exposure = self.market_exposure(market_id, None, snapshot)
            total_others += exposure
            if self._event_of(market_id, market) == event:
                match_others += exposure
        return ExposureRoom(
            book=self._market_book(market.market_id, None, snapshot),
            runner_ids=runners or market.runner_ids,
            selection_limit=cfg.max_selection_exposure,
            market_limit=min(
                cfg.max_match_exposure - match_others, cfg.max_total_exposure - total_others
            ),
            order_liability_limit=cfg.max_order_liability,
            order_stake_limit=cfg.max_order_stake,
            blocked=blocked,
        )

    # -- the checks -------------------------------------------------------------------------
    def check(
        self, order: OrderRequest, market: MarketState, *, expect_in_play: bool | None = None
    ) -> RiskVerdict:
        """Run every pre-trade rule; on acceptance the order counts against the rate limit."""
        verdict = self._evaluate(order, market, expect_in_play)
        if verdict.reason is not None:
            self.rejections[verdict.reason] += 1
            log.warning(
                "order_rejected",
                reason=verdict.reason.value,
                detail=verdict.detail,
                ref=order.customer_order_ref,
                market_id=order.market_id,
                selection_id=order.selection_id,
                side=order.side.value,
                price=order.price,
                size=order.size,
            )
        else:
            self._accepted_ms.append(self._now_ms())
        return verdict

    def _evaluate(
        self, order: OrderRequest, market: MarketState, expect_in_play: bool | None
    ) -> RiskVerdict:
        cfg = self.config
        if self.kill_switch.engaged:
            return RiskVerdict(RejectReason.KILL_SWITCH, self.kill_switch.reason)
        if not math.isfinite(order.size) or order.size <= 0 or round(order.size, 2) != order.size:
            return RiskVerdict(RejectReason.INVALID_SIZE, f"size {order.size!r}")
        if (
            not math.isfinite(order.price)
            or tick_index_or_none(order.price) is None
            or (abs(order.price * 100 - round(order.price * 100)) > 1e-6)
        ):
            return RiskVerdict(RejectReason.PRICE_NOT_ON_LADDER, f"price {order.price!r}")
        if not meets_minimum_stake(order.size, order.price, self.staking):
            return RiskVerdict(RejectReason.BELOW_MIN_STAKE, f"size {order.size}")
        if market.status != "OPEN":
            return RiskVerdict(RejectReason.MARKET_NOT_OPEN, f"status {market.status}")
        if expect_in_play is not None and market.in_play != expect_in_play:
            return RiskVerdict(
                RejectReason.INPLAY_STATE, f"in_play {market.in_play}, expected {expect_in_play}"
            )
        if order.size > cfg.max_order_stake + 1e-9:
            return RiskVerdict(RejectReason.ORDER_STAKE, f"{order.size} > {cfg.max_order_stake}")
        liability = liability_of(order.side, order.price, order.size)
        if liability > cfg.max_order_liability + 1e-9:
            return RiskVerdict(
                RejectReason.ORDER_LIABILITY, f"{liability:.2f} > {cfg.max_order_liability}"
            )
        if self.realised_today() <= -cfg.daily_loss_limit:
            return RiskVerdict(
                RejectReason.DAILY_LOSS, f"realised {self.realised_today():.2f} today"
            )
        now = self._now_ms()
        window_start = now - int(cfg.order_window_s * 1000)
        while self._accepted_ms and self._accepted_ms[0] <= window_start:
            self._accepted_ms.popleft()
        if len(self._accepted_ms) >= cfg.max_orders_per_window:
            return RiskVerdict(
                RejectReason.ORDER_RATE,
                f"{len(self._accepted_ms)} orders in {cfg.order_window_s}s",
            )
        return self._check_exposure(order, market)

    def _check_exposure(self, order: OrderRequest, market: MarketState) -> RiskVerdict:
        cfg = self.config
        if market.runner_ids:
            position = self.positions.market(order.market_id)
            if not position.runner_ids:
                position.runner_ids = market.runner_ids
            if market.event_id and not position.event_id:
                position.event_id = market.event_id
        book = self._market_book(order.market_id, order)
        selection = book.selection_worst_case(order.selection_id)
        if selection > cfg.max_selection_exposure + 1e-9:
            return RiskVerdict(
                RejectReason.SELECTION_EXPOSURE, f"{selection:.2f} > {cfg.max_selection_exposure}"
            )
        event = self._event_of(order.market_id, market)
        match_total = 0.0
        total = 0.0
        for market_id in self._markets(order.market_id):
            extra = order if market_id == order.market_id else None
            exposure = self.market_exposure(market_id, extra)
            total += exposure
            if self._event_of(market_id, market) == event:
                match_total += exposure
        if match_total > cfg.max_match_exposure + 1e-9:
            return RiskVerdict(
                RejectReason.MATCH_EXPOSURE, f"{match_total:.2f} > {cfg.max_match_exposure}"
            )
        if total > cfg.max_total_exposure + 1e-9:
            return RiskVerdict(
                RejectReason.TOTAL_EXPOSURE, f"{total:.2f} > {cfg.max_total_exposure}"
            )
        return RiskVerdict()


def liability_headroom(room: ExposureRoom, selection_id: int, side: Side) -> float:
    """The largest liability (stake for a back, (price − 1) × stake for a lay) of one more order
    on `selection_id` that `RiskManager.check` accepts, given the room before it; 0 when none.

    Pure inverse of the exposure rules. An order at its worst moves exactly one side of the book
    by its liability L, whatever its price: a back lowers every outcome in which the selection
    does not win (and its own "loses" case) by L; a lay lowers the outcome in which it wins by L.
    So each rule is "the unmoved outcomes are already within the limit, and the lowest moved
    outcome − L stays within it". A lay's per-order stake cap depends on its price and is not
    folded in here (see `engine.strategy.PositionView.max_stake`).
    """
    if room.blocked is not None or room.market_limit < -EXPOSURE_TOLERANCE:
        return 0.0
    book = room.book
    base_s = book.base_by_selection.get(selection_id, 0.0)
    wins_s = base_s + book.delta.get(selection_id, 0.0)
    fixed, moving = (wins_s, base_s) if side is Side.BACK else (base_s, wins_s)
    if -fixed > room.selection_limit + EXPOSURE_TOLERANCE:
        return 0.0
    limit = min(room.selection_limit + moving, room.order_liability_limit)
    if side is Side.BACK:
        limit = min(limit, room.order_stake_limit)
    market_limit = max(0.0, room.market_limit)
    base, delta = book.base, book.delta
    back = side is Side.BACK
    # the outcomes: each runner winning; with the runners unknown also "someone else wins" (None)
    # and every selection we have a bet on (OutcomeBook.worst_case)
    winners: Iterable[int | None] = room.runner_ids or (None, selection_id, *delta)
    for winner in winners:
        pnl = base + delta.get(winner, 0.0) if winner is not None else base
        if (winner != selection_id) is back:  # this outcome moves by −L
            limit = min(limit, market_limit + pnl)
        elif -pnl > market_limit + EXPOSURE_TOLERANCE:
            return 0.0
    return max(0.0, limit)
