"""The order manager: risk-checked, journaled-before-sent, idempotent orders, and reconciliation.

Rules that make it crash-safe:
- A decision's customerOrderRef is derived from (strategy, decision, leg), so the same decision
  always yields the same ref; a ref already in the journal is never placed again.
- The intent row is committed before the place request leaves the process.
- After a restart, every intent that the journal cannot confirm is looked up on the exchange by its
  ref; only when the exchange has no order with that ref is it re-sent (same ref, and the same
  request-level customerRef, which Betfair also uses to de-duplicate re-submissions).
- The exchange is the source of truth: whatever it reports for one of our refs is adopted,
  whatever state the journal had.

`submit` awaits the journal and the exchange, so the daemon schedules it as a task from its
synchronous decision step (DESIGN.md §3) rather than awaiting it inline; concurrent submits,
order-stream updates and polls are safe (see `_update`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from engine.execution.config import OrdersConfig
from engine.execution.journal import Journal, JournalOrder, OrderState
from engine.execution.port import ExchangePort, ExchangeUnavailableError
from engine.execution.position_view import build_position_view
from engine.execution.positions import PositionBook
from engine.execution.risk import OpenOrder, RejectReason, RiskManager
from engine.execution.types import (
    CurrentOrder,
    ExchangeOrderStatus,
    MarketState,
    OrderRequest,
    Outcome,
    Persistence,
    PlaceReport,
    Side,
)
from engine.logs import get_logger
from engine.metrics import EngineMetrics
from engine.strategy import PositionView

log = get_logger("execution.orders")

MAX_REF_LENGTH = 32
_SIZE_EPS = 1e-6
_OPEN_STATES: Final = frozenset({OrderState.INTENT, OrderState.UNKNOWN, OrderState.EXECUTABLE})


def make_customer_order_ref(prefix: str, strategy_id: str, decision_id: str, leg: int = 0) -> str:
    """Deterministic, at most 32 characters (Betfair's limit): prefix + '-' + 24 hex digits."""
    digest = hashlib.blake2b(
        f"{strategy_id}\x1f{decision_id}\x1f{leg}".encode(), digest_size=12
    ).hexdigest()
    ref = f"{prefix}-{digest}"
    if len(ref) > MAX_REF_LENGTH:
        raise ValueError(f"ref_prefix: {prefix!r} makes refs longer than {MAX_REF_LENGTH}")
    return ref


@dataclass(frozen=True, slots=True)
class OrderDecision:
    """What a strategy wants: one limit order, identified by its decision."""

    strategy_id: str
    decision_id: str
    market_id: str
    selection_id: int
    side: Side
    price: float
    size: float
    persistence: Persistence = Persistence.LAPSE
    leg: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What happened to a decision: its ref, its journal state and why."""

    ref: str
    state: OrderState
    duplicate: bool = False
    reject_reason: RejectReason | None = None
    error: str = ""


@dataclass(slots=True)
class ReconcileReport:
    """Counts from a start-up reconciliation."""

    adopted: int = 0
    resent: int = 0
    abandoned: int = 0
    missing_completed: int = 0
    foreign: int = 0
    unchanged: int = 0


def _fill_delta(order: JournalOrder, size_matched: float, avg: float) -> tuple[float, float]:
    """(size, price) newly matched between the journal's view and the exchange's."""
    delta = size_matched - order.size_matched
    if delta <= _SIZE_EPS:
        return 0.0, 0.0
    price = (avg * size_matched - order.average_price_matched * order.size_matched) / delta
    return delta, price


class OrderManager:
    """Owns the journal mirror, the positions and the path from decision to exchange."""

    def __init__(
        self,
        journal: Journal,
        exchange: ExchangePort,
        risk: RiskManager,
        positions: PositionBook,
        *,
        now_ms: Callable[[], int],
        config: OrdersConfig,
        metrics: EngineMetrics | None = None,
    ) -> None:
        self.journal = journal
        self.exchange = exchange
        self.risk = risk
        self.positions = positions
        self.config = config
        self._now_ms = now_ms
        self.orders: dict[str, JournalOrder] = {}  # the journal mirror; written by _put/_drop
        # refs of orders that may still match (intent, unknown, executable), in insertion order:
        # the per-decision views read these, not the whole day's orders
        self._open_refs: dict[str, None] = {}
        self._settled_markets: set[str] = set()
        self.metrics = metrics
        risk.open_orders_source = self.open_orders
        if metrics is not None:
            metrics.daily_loss_limit.set(risk.config.daily_loss_limit)

    # -- views ----------------------------------------------------------------------------
    def _put(self, order: JournalOrder) -> None:
        """Store an order's newest state in the mirror and keep the open-ref index with it."""
        self.orders[order.ref] = order
        if order.state in _OPEN_STATES:
            self._open_refs[order.ref] = None
        else:
            self._open_refs.pop(order.ref, None)

    def _drop(self, ref: str) -> None:
        self.orders.pop(ref, None)
        self._open_refs.pop(ref, None)

    def open_orders(self) -> Iterable[OpenOrder]:
        """Unmatched remainders for the risk layer (unconfirmed intents count in full)."""
        orders = self.orders
        for ref in tuple(self._open_refs):
            order = orders[ref]
            if order.state in (OrderState.INTENT, OrderState.UNKNOWN):
                remaining = order.size - order.size_matched
            elif order.state is OrderState.EXECUTABLE:
                remaining = order.size_remaining
            else:
                continue
            if remaining > _SIZE_EPS:
                yield OpenOrder(
                    order.market_id, order.selection_id, Side(order.side), order.price, remaining
                )

    def position_view(self, market: MarketState, selection_ids: Sequence[int] = ()) -> PositionView:
        """The strategy's view of `market` now: its runners (plus `selection_ids`), matched and
        resting stakes, and the risk head-room per selection and side (position_view.py)."""
        ids = tuple(dict.fromkeys((*market.runner_ids, *selection_ids)))
        open_now = tuple(self.open_orders())
        return build_position_view(
            market.market_id,
            ids,
            self.positions.markets.get(market.market_id),
            open_now,
            self.risk.exposure_room(market, open_now),
        )

    def ref_for(self, decision: OrderDecision) -> str:
        return make_customer_order_ref(
            self.config.ref_prefix, decision.strategy_id, decision.decision_id, decision.leg
        )

    # -- start-up -------------------------------------------------------------------------
    async def start(self, market_ids: Sequence[str] = ()) -> ReconcileReport:
        """Load the journal, rebuild positions, reconcile with the exchange's current orders.

        Raises ExchangeUnavailableError when the exchange cannot list its orders: trading must
        not start on a journal that has not been reconciled.
        """
        for event in await self.journal.events():
            if event.kind == "market_settled":
                self._settled_markets.add(str(event.payload["market_id"]))
        self.orders, self._open_refs = {}, {}
        for order in await self.journal.orders():
            self._put(order)
        for order in self.orders.values():
            if order.size_matched > 0 and order.market_id not in self._settled_markets:
                self.positions.add_fill(
                    order.market_id,
                    order.selection_id,
                    Side(order.side),
                    order.average_price_matched,
                    order.size_matched,
                )
        return await self.reconcile(market_ids)

    async def reconcile(self, market_ids: Sequence[str] = ()) -> ReconcileReport:
        """Make the journal agree with the exchange; resend unconfirmed intents not found there."""
        report = ReconcileReport()
        markets = set(market_ids)
        markets.update(o.market_id for o in self.orders.values() if not o.state.is_final)
        if not markets:
            return report
        current = await self.exchange.list_current_orders(market_ids=sorted(markets))
        seen: set[str] = set()
        for exchange_order in current:
            ref = exchange_order.customer_order_ref
            if ref in self.orders:
                seen.add(ref)
                changed = await self.apply_exchange_order(exchange_order, kind="reconciled")
                report.adopted += int(changed)
                report.unchanged += int(not changed)
            else:
                report.foreign += 1
                await self._record_foreign(exchange_order)
        now = self._now_ms()
        for ref, order in list(self.orders.items()):
            if ref in seen or order.state.is_final or order.market_id not in markets:
                continue
            if order.state in (OrderState.INTENT, OrderState.UNKNOWN):
                age_s = (now - order.created_ms) / 1000.0
                if self.config.resend_unconfirmed and age_s <= self.config.resend_max_age_s:
                    await self._send(order, kind="resent")
                    report.resent += 1
                else:
                    await self._update(
                        order, {"state": OrderState.ABANDONED}, "abandoned", {"age_s": age_s}
                    )
                    report.abandoned += 1
            else:
                await self._update(
                    order,
                    {"state": OrderState.COMPLETE, "size_remaining": 0.0},
                    "missing_at_reconcile",
                    {},
                )
                report.missing_completed += 1
        log.info("reconciled", **asdict(report))
        return report

    async def _record_foreign(self, exchange_order: CurrentOrder) -> None:
        """An order the journal never heard of: tracked for exposure, never touched."""
        ours = exchange_order.customer_order_ref.startswith(f"{self.config.ref_prefix}-")
        log.error(
            "foreign_order" if not ours else "unjournaled_order_with_our_prefix",
            bet_id=exchange_order.bet_id,
            ref=exchange_order.customer_order_ref,
        )
        ref = exchange_order.customer_order_ref or f"bet:{exchange_order.bet_id}"
        now = self._now_ms()
        order = JournalOrder(
            ref=ref,
            market_id=exchange_order.market_id,
            selection_id=exchange_order.selection_id,
            side=exchange_order.side.value,
            price=exchange_order.price,
            size=exchange_order.size,
            persistence=exchange_order.persistence.value,
            strategy_ref="",
            decision_id="",
            state=OrderState.EXECUTABLE,
            created_ms=now,
            updated_ms=now,
            bet_id=exchange_order.bet_id,
        )
        self._put(order)
        await self.journal.insert_order(order, "foreign", {"bet_id": exchange_order.bet_id})
        self._count("foreign")
        await self.apply_exchange_order(exchange_order, kind="reconciled")

    # -- placing --------------------------------------------------------------------------
    async def submit(
        self,
        decision: OrderDecision,
        market: MarketState,
        *,
        expect_in_play: bool | None = None,
    ) -> SubmitResult:
        """Risk-check, journal the intent, place; idempotent per decision."""
        ref = self.ref_for(decision)
        existing = self.orders.get(ref)
        if existing is not None:
            return SubmitResult(ref, existing.state, duplicate=True)
        request = OrderRequest(
            market_id=decision.market_id,
            selection_id=decision.selection_id,
            side=decision.side,
            price=decision.price,
            size=decision.size,
            customer_order_ref=ref,
            persistence=decision.persistence,
            strategy_ref=decision.strategy_id[:15],
        )
        now = self._now_ms()
        verdict = self.risk.check(request, market, expect_in_play=expect_in_play)
        state = OrderState.INTENT if verdict.accepted else OrderState.RISK_REJECTED
        order = JournalOrder(
            ref=ref,
            market_id=decision.market_id,
            selection_id=decision.selection_id,
            side=decision.side.value,
            price=decision.price,
            size=decision.size,
            persistence=decision.persistence.value,
            strategy_ref=request.strategy_ref,
            decision_id=decision.decision_id,
            state=state,
            created_ms=now,
            updated_ms=now,
            size_remaining=decision.size if verdict.accepted else 0.0,
            error="" if verdict.accepted else f"{verdict.reason}: {verdict.detail}",
        )
        self._put(order)  # reserve the ref before the first await
        try:
            await self.journal.insert_order(
                order,
                "intent" if verdict.accepted else "risk_rejected",
                {
                    "decision_id": decision.decision_id,
                    "rationale": decision.reason,
                    "reject_reason": str(verdict.reason or ""),
                },
            )
        except BaseException:
            self._drop(ref)
            raise
        self._count("intent" if verdict.accepted else "risk_rejected")
        if not verdict.accepted:
            return SubmitResult(ref, state, reject_reason=verdict.reason, error=verdict.detail)
        final = await self._send(order, kind="placed")
        return SubmitResult(ref, final.state, error=final.error)

    def _request_of(self, order: JournalOrder) -> OrderRequest:
        return OrderRequest(
            market_id=order.market_id,
            selection_id=order.selection_id,
            side=Side(order.side),
            price=order.price,
            size=order.size,
            customer_order_ref=order.ref,
            persistence=Persistence(order.persistence),
            strategy_ref=order.strategy_ref,
        )

    async def _send(self, order: JournalOrder, *, kind: str) -> JournalOrder:
        if self.risk.kill_switch.engaged:
            return await self._update(
                order, {"state": OrderState.ABANDONED, "error": "kill_switch"}, "abandoned", {}
            )
        reports = await self.exchange.place_orders(
            order.market_id, [self._request_of(order)], customer_ref=order.ref
        )
        report = reports[0] if reports else PlaceReport(Outcome.UNKNOWN, order.ref)
        placed = await self._apply_place_report(self.orders[order.ref], report, kind)
        if self.risk.kill_switch.engaged and placed.state is OrderState.EXECUTABLE:
            placed = await self.cancel(placed.ref)  # the kill switch fired while we were sending
        return placed

    async def _apply_place_report(
        self, order: JournalOrder, report: PlaceReport, kind: str
    ) -> JournalOrder:
        payload: dict[str, Any] = {
            "outcome": report.outcome.value,
            "bet_id": report.bet_id,
            "status": report.status.value if report.status else None,
            "size_matched": report.size_matched,
            "average_price_matched": report.average_price_matched,
            "failure": report.failure.value,
            "error_code": report.error_code,
        }
        if report.outcome is Outcome.REJECTED:
            return await self._update(
                order,
                {
                    "state": OrderState.REJECTED,
                    "size_remaining": 0.0,
                    "error": f"{report.failure.value}:{report.error_code}",
                },
                f"{kind}_rejected",
                payload,
            )
        if report.outcome is Outcome.UNKNOWN or report.bet_id is None:
            updated = await self._update(
                order,
                {"state": OrderState.UNKNOWN, "error": report.error_code or report.failure.value},
                f"{kind}_unknown",
                payload,
            )
            return await self._lookup(updated)
        if order.bet_id == report.bet_id and (
            order.state is OrderState.COMPLETE or order.size_matched > report.size_matched
        ):
            # an order update overtook this answer: the journal already knows more
            await self.journal.append_event(order.ref, f"{kind}_stale", payload, self._now_ms())
            return order
        matched = min(report.size_matched, order.size)
        complete = report.status is ExchangeOrderStatus.EXECUTION_COMPLETE
        remaining = 0.0 if complete else max(0.0, order.size - matched)
        changes: dict[str, Any] = {
            "state": OrderState.COMPLETE if complete else OrderState.EXECUTABLE,
            "bet_id": report.bet_id,
            "size_matched": matched,
            "average_price_matched": report.average_price_matched if matched > 0 else 0.0,
            "size_remaining": remaining,
        }
        self._fill(order, matched, report.average_price_matched)
        return await self._update(order, changes, kind, payload)

    async def _lookup(self, order: JournalOrder) -> JournalOrder:
        """After an unknown outcome: ask the exchange for the ref before anything else."""
        try:
            found = await self.exchange.list_current_orders(
                market_ids=[order.market_id], customer_order_refs=[order.ref]
            )
        except ExchangeUnavailableError as exc:
            log.warning("lookup_failed", ref=order.ref, error=str(exc))
            return order
        for exchange_order in found:
            if exchange_order.customer_order_ref == order.ref:
                await self.apply_exchange_order(exchange_order, kind="looked_up")
                break
        return self.orders[order.ref]

    # -- updates from the exchange ---------------------------------------------------------
    def _fill(self, order: JournalOrder, size_matched: float, avg: float) -> None:
        if order.market_id in self._settled_markets:
            return
        size, price = _fill_delta(order, size_matched, avg)
        if size > 0:
            self.positions.add_fill(
                order.market_id, order.selection_id, Side(order.side), price, size
            )

    async def apply_exchange_order(
        self, update: CurrentOrder, *, kind: str = "order_update"
    ) -> bool:
        """Adopt the exchange's view of one of our orders; returns True when anything changed."""
        order = self.orders.get(update.customer_order_ref)
        if order is None:
            return False
        if (
            order.bet_id == update.bet_id
            and update.size_matched < order.size_matched - _SIZE_EPS
            and update.size_voided <= order.size_voided + _SIZE_EPS
        ):
            # matched size never shrinks on the exchange (short of a void): this view is older
            # than one already applied (a poll overtaken by the order stream); adopting it would
            # count the difference twice when the newer view comes back
            return False
        complete = update.status is ExchangeOrderStatus.EXECUTION_COMPLETE
        changes: dict[str, Any] = {
            "state": OrderState.COMPLETE if complete else OrderState.EXECUTABLE,
            "bet_id": update.bet_id,
            "size_matched": update.size_matched,
            "average_price_matched": update.average_price_matched,
            "size_remaining": 0.0 if complete else update.size_remaining,
            "size_cancelled": update.size_cancelled,
            "size_lapsed": update.size_lapsed,
            "size_voided": update.size_voided,
            "price": update.price,
        }
        if update.status is ExchangeOrderStatus.PENDING:
            changes["state"] = OrderState.EXECUTABLE
        changed = {
            k: v
            for k, v in changes.items()
            if (
                getattr(order, k) != v
                if not isinstance(v, float)
                else abs(getattr(order, k) - v) > _SIZE_EPS
            )
        }
        if not changed:
            return False
        self._fill(order, update.size_matched, update.average_price_matched)
        payload = {k: (v.value if isinstance(v, OrderState) else v) for k, v in changed.items()}
        await self._update(order, changed, kind, payload)
        return True

    async def sync(self, market_ids: Sequence[str] | None = None) -> int:
        """Poll the exchange's current orders and adopt them (order-stream fallback)."""
        markets = sorted(
            set(market_ids)
            if market_ids is not None
            else {o.market_id for o in self.orders.values() if not o.state.is_final}
        )
        if not markets:
            return 0
        current = await self.exchange.list_current_orders(market_ids=markets)
        changed = 0
        seen = set()
        for exchange_order in current:
            seen.add(exchange_order.customer_order_ref)
            changed += int(await self.apply_exchange_order(exchange_order))
        now = self._now_ms()
        for order in list(self.orders.values()):
            if (
                order.state is OrderState.UNKNOWN
                and order.ref not in seen
                and order.market_id in markets
                and (now - order.created_ms) / 1000.0 > self.config.resend_max_age_s
            ):
                await self._update(order, {"state": OrderState.ABANDONED}, "abandoned", {})
                changed += 1
        return changed

    # -- cancelling -----------------------------------------------------------------------
    async def cancel(self, ref: str) -> JournalOrder:
        """Cancel an order's unmatched remainder; the cancel intent is journaled first."""
        order = self.orders[ref]
        if order.state is not OrderState.EXECUTABLE or order.bet_id is None:
            return order
        await self.journal.append_event(
            ref, "cancel_intent", {"bet_id": order.bet_id}, self._now_ms()
        )
        reports = await self.exchange.cancel_orders(order.market_id, [order.bet_id])
        report = reports[0] if reports else None
        if report is not None and report.outcome is Outcome.DONE:
            order = self.orders[ref]
            remaining = max(0.0, order.size_remaining - report.size_cancelled)
            changes: dict[str, Any] = {
                "size_cancelled": order.size_cancelled + report.size_cancelled,
                "size_remaining": remaining,
            }
            if remaining <= _SIZE_EPS:
                changes["state"] = OrderState.COMPLETE
            await self._update(
                order, changes, "cancelled", {"size_cancelled": report.size_cancelled}
            )
            return self.orders[ref]
        log.warning(
            "cancel_not_confirmed",
            ref=ref,
            outcome=report.outcome.value if report else "no_report",
            error=report.error_code if report else "",
        )
        return await self._lookup(self.orders[ref])

    async def kill(self, reason: str) -> int:
        """Engage the kill switch and cancel every open order; returns how many were cancelled."""
        self.risk.kill_switch.engage(reason, self._now_ms())
        self._publish_risk()
        await self.journal.append_event(
            "kill_switch", "kill_switch", {"reason": reason}, self._now_ms()
        )
        if any(o.state in (OrderState.INTENT, OrderState.UNKNOWN) for o in self.orders.values()):
            try:  # orders whose outcome we do not know may be live: find them first
                await self.sync()
            except ExchangeUnavailableError as exc:
                log.error("kill_switch_sync_failed", error=str(exc))
        cancelled = 0
        for order in list(self.orders.values()):
            if order.state is OrderState.EXECUTABLE and order.bet_id is not None:
                result = await self.cancel(order.ref)
                cancelled += int(result.size_remaining <= _SIZE_EPS)
        return cancelled

    # -- settlement -----------------------------------------------------------------------
    async def settle_market(
        self, market_id: str, winner: int | None, commission_rate: float
    ) -> float:
        """Book the market's P&L (net of commission) and count it toward the daily loss limit."""
        if market_id in self._settled_markets:
            return 0.0
        settlement = self.positions.settle(market_id, winner, commission_rate)
        self._settled_markets.add(market_id)
        self.risk.record_realised(settlement.net)
        self._publish_risk()
        await self.journal.append_event(
            f"market:{market_id}",
            "market_settled",
            {
                "market_id": market_id,
                "winner": winner,
                "gross": settlement.gross,
                "commission": settlement.commission,
            },
            self._now_ms(),
        )
        return settlement.net

    # -- journal write-through ------------------------------------------------------------
    async def _update(
        self, order: JournalOrder, changes: dict[str, Any], kind: str, payload: dict[str, Any]
    ) -> JournalOrder:
        """Apply to the mirror first (synchronously, so concurrent coroutines always build on
        the newest state), then journal; the journal's lock keeps commits in the same order."""
        now = self._now_ms()
        self._put(replace(self.orders[order.ref], **changes, updated_ms=now))
        seq = await self.journal.update_order(order.ref, changes, kind, payload, now)
        current = self.orders[order.ref]
        if current.last_seq < seq:
            self._put(replace(current, last_seq=seq))
        if "state" in changes:
            self._count(str(changes["state"]).lower())
        self._publish_risk()
        return self.orders[order.ref]

    # -- metrics --------------------------------------------------------------------------
    def _count(self, transition: str) -> None:
        if self.metrics is not None:
            self.metrics.orders.labels(transition).inc()

    def _publish_risk(self) -> None:
        """Exposure (total and per match), today's realised P&L and the kill switch."""
        metrics = self.metrics
        if metrics is None:
            return
        markets = set(self.positions.markets) | {o.market_id for o in self.open_orders()}
        by_match: dict[str, float] = {}
        for market_id in markets:
            position = self.positions.markets.get(market_id)
            match = position.event_id if position is not None and position.event_id else market_id
            by_match[match] = by_match.get(match, 0.0) + self.risk.market_exposure(market_id)
        metrics.exposure.labels("total").set(sum(by_match.values()))
        for match, exposure in by_match.items():
            metrics.exposure.labels(match).set(exposure)
        metrics.pnl.labels("realised").set(self.risk.realised_today())
        metrics.kill_switch.set(1.0 if self.risk.kill_switch.engaged else 0.0)
