"""Order manager against the real simulator (through the Betfair adapter's in-process transport):
journal-before-send, idempotency, unknown outcomes, restart reconciliation, kill switch."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from adapters.betfair.betting import BetfairBetting, BettingCallError
from adapters.simexchange import InProcessTransport, SimExchange, SimExchangeConfig
from adapters.simexchange.synthetic import (
    ManualClock,
    market_change,
    market_definition,
    runner_change,
)
from engine.execution.config import OrdersConfig, RiskConfig, StakingConfig
from engine.execution.journal import Journal, JournalOrder, OrderState
from engine.execution.orders import OrderDecision, OrderManager, make_customer_order_ref
from engine.execution.positions import PositionBook
from engine.execution.risk import RejectReason, RiskManager
from engine.execution.types import FailureKind, MarketState, Outcome, Side
from engine.market import MarketCache
from engine.metrics import EngineMetrics

MARKET = "1.42"
STATE = MarketState(MARKET, "OPEN", in_play=False, runner_ids=(1, 2), event_id="e")


class LossyTransport:
    """Fault injection: the next call's answer is lost (after or before the exchange acted)."""

    def __init__(self, inner: InProcessTransport) -> None:
        self.inner = inner
        self.lose_answer = 0
        self.lose_request = 0
        self.after_place: Callable[[], Awaitable[None]] | None = None

    async def call(self, operation: str, params: Mapping[str, Any]) -> Any:
        if operation == "placeOrders" and self.lose_request:
            self.lose_request -= 1
            raise BettingCallError(Outcome.UNKNOWN, FailureKind.TIMEOUT, "TIMEOUT")
        result = await self.inner.call(operation, params)
        if operation == "placeOrders" and self.after_place is not None:
            hook, self.after_place = self.after_place, None
            await hook()  # something happens while the answer is on its way back
        if operation == "placeOrders" and self.lose_answer:
            self.lose_answer -= 1
            raise BettingCallError(Outcome.UNKNOWN, FailureKind.TIMEOUT, "TIMEOUT")
        return result


class Stack:
    def __init__(self, tmp_path, risk_config: RiskConfig | None = None) -> None:
        self.path = tmp_path / "journal.sqlite"
        self.clock = ManualClock()
        self.cache = MarketCache(record_level_changes=True)
        self.sim = SimExchange(
            SimExchangeConfig(latency_ms=0, dedupe_customer_ref=False), self.clock
        )
        self.transport = LossyTransport(InProcessTransport(self.sim))
        self.risk_config = risk_config or RiskConfig()
        self.feed(
            runner_change(1, atb=[(2.0, 100)], atl=[(2.02, 100)]),
            runner_change(2, atb=[(1.96, 100)], atl=[(2.0, 100)]),
            definition=market_definition((1, 2)),
            image=True,
        )

    def feed(self, *runners, definition=None, image=False) -> None:
        update = self.cache.apply(
            market_change(MARKET, definition=definition, runners=runners, image=image), self.clock()
        )
        assert update is not None
        self.sim.on_market_update(update)

    async def manager(
        self, config: OrdersConfig | None = None, metrics: EngineMetrics | None = None
    ) -> OrderManager:
        journal = await Journal.open(self.path)
        positions = PositionBook()
        risk = RiskManager(
            self.risk_config,
            StakingConfig(),
            positions,
            self.clock,
        )
        manager = OrderManager(
            journal,
            BetfairBetting(self.transport),
            risk,
            positions,
            now_ms=self.clock,
            config=config or OrdersConfig(),
            metrics=metrics,
        )
        return manager

    def exchange_refs(self) -> list[str]:
        return [o.customer_order_ref for o in self.sim.all_orders()]


def decision(n: int, *, side: Side = Side.BACK, price: float = 2.0, size: float = 10.0):
    return OrderDecision("strat", f"d{n}", MARKET, 1, side, price, size)


@pytest.fixture
def stack(tmp_path):
    return Stack(tmp_path)


def test_refs_are_deterministic_and_fit_betfair():
    ref = make_customer_order_ref("cs", "strategy-name", "decision-123", 0)
    assert ref == make_customer_order_ref("cs", "strategy-name", "decision-123", 0)
    assert ref != make_customer_order_ref("cs", "strategy-name", "decision-123", 1)
    assert len(ref) <= 32
    assert len(make_customer_order_ref("abcdefg", "s" * 200, "d" * 200, 99)) == 32
    with pytest.raises(ValueError, match="ref_prefix"):
        make_customer_order_ref("abcdefgh", "s", "d")


async def test_submit_journals_intent_before_placing(stack):
    manager = await stack.manager()
    kinds_at_send = []
    original = stack.sim.place_orders

    def spy(params):
        kinds_at_send.append(list(manager.orders))  # the ref is already journaled and mirrored
        return original(params)

    stack.sim.place_orders = spy
    result = await manager.submit(decision(1), STATE)
    assert result.state is OrderState.COMPLETE
    assert kinds_at_send == [[result.ref]]
    events = await manager.journal.events(result.ref)
    assert [e.kind for e in events] == ["intent", "placed"]
    row = await manager.journal.get(result.ref)
    assert row is not None and row.size_matched == 10 and row.bet_id
    assert manager.positions.market(MARKET).pnl_if(1) == pytest.approx(10.0)
    await manager.journal.close()


async def test_same_decision_is_never_placed_twice(stack):
    manager = await stack.manager()
    first = await manager.submit(decision(1, price=2.2), STATE)
    again = await manager.submit(decision(1, price=2.2), STATE)
    assert again.duplicate and again.ref == first.ref
    assert stack.exchange_refs() == [first.ref]
    await manager.journal.close()


async def test_risk_rejection_is_journaled_and_not_sent(stack):
    manager = await stack.manager()
    result = await manager.submit(decision(1, size=500.0), STATE)
    assert result.state is OrderState.RISK_REJECTED
    assert result.reject_reason is RejectReason.ORDER_STAKE
    assert stack.exchange_refs() == []
    assert [e.kind for e in await manager.journal.events(result.ref)] == ["risk_rejected"]
    await manager.journal.close()


async def test_exchange_rejection_is_final(stack):
    manager = await stack.manager()
    stack.feed(definition=market_definition((1, 2), status="SUSPENDED"))
    result = await manager.submit(decision(1), STATE)  # our state is stale: the sim refuses
    assert result.state is OrderState.REJECTED
    assert "MARKET_SUSPENDED" in result.error
    await manager.journal.close()


async def test_lost_answer_is_resolved_by_looking_up_the_ref(stack):
    manager = await stack.manager()
    stack.transport.lose_answer = 1
    result = await manager.submit(decision(1, price=2.2), STATE)
    assert result.state is OrderState.EXECUTABLE  # found on the exchange by its ref
    kinds = [e.kind for e in await manager.journal.events(result.ref)]
    assert kinds == ["intent", "placed_unknown", "looked_up"]
    assert stack.exchange_refs() == [result.ref]
    await manager.journal.close()


async def test_lost_request_stays_unknown_then_is_abandoned(stack):
    manager = await stack.manager(OrdersConfig(resend_max_age_s=5.0))
    stack.transport.lose_request = 1
    result = await manager.submit(decision(1, price=2.2), STATE)
    assert result.state is OrderState.UNKNOWN
    assert list(manager.open_orders())  # counted as exposure while unknown
    stack.clock.advance(6000)
    await manager.sync([MARKET])
    assert manager.orders[result.ref].state is OrderState.ABANDONED
    assert stack.exchange_refs() == []
    await manager.journal.close()


async def test_restart_resends_an_intent_the_exchange_never_saw(stack):
    manager = await stack.manager()
    ref = manager.ref_for(decision(1, price=2.2))
    now = stack.clock()
    await manager.journal.insert_order(
        JournalOrder(
            ref,
            MARKET,
            1,
            "BACK",
            2.2,
            10.0,
            "LAPSE",
            "strat",
            "d1",
            OrderState.INTENT,
            now,
            now,
            size_remaining=10.0,
        ),
        "intent",
        {},
    )
    await manager.journal.close()  # "crash" after journaling, before sending
    restarted = await stack.manager()
    report = await restarted.start()
    assert report.resent == 1
    assert stack.exchange_refs() == [ref]
    assert restarted.orders[ref].state is OrderState.EXECUTABLE
    again = await restarted.submit(decision(1, price=2.2), STATE)
    assert again.duplicate and stack.exchange_refs() == [ref]
    await restarted.journal.close()


async def test_restart_adopts_an_intent_the_exchange_already_has(stack):
    manager = await stack.manager()
    stack.transport.lose_answer = 1
    ref = manager.ref_for(decision(1))
    original_lookup = manager._lookup

    async def crash_before_lookup(order):
        raise SystemExit  # the process dies before it can look the order up

    manager._lookup = crash_before_lookup
    with pytest.raises(SystemExit):
        await manager.submit(decision(1), STATE)
    manager._lookup = original_lookup
    await manager.journal.close()
    restarted = await stack.manager()
    report = await restarted.start()
    assert (report.adopted, report.resent) == (1, 0)
    order = restarted.orders[ref]
    assert order.state is OrderState.COMPLETE and order.size_matched == 10
    assert restarted.positions.market(MARKET).pnl_if(1) == pytest.approx(10.0)
    assert stack.exchange_refs() == [ref]
    await restarted.journal.close()


async def test_restart_abandons_stale_intents(stack):
    manager = await stack.manager()
    now = stack.clock()
    await manager.journal.insert_order(
        JournalOrder(
            "cs-old",
            MARKET,
            1,
            "BACK",
            2.2,
            10.0,
            "LAPSE",
            "s",
            "d",
            OrderState.INTENT,
            now,
            now,
            size_remaining=10.0,
        ),
        "intent",
        {},
    )
    await manager.journal.close()
    stack.clock.advance(60_000)
    restarted = await stack.manager(OrdersConfig(resend_max_age_s=10.0))
    report = await restarted.start()
    assert report.abandoned == 1 and stack.exchange_refs() == []
    await restarted.journal.close()


async def test_fills_from_the_exchange_update_journal_and_positions(stack):
    manager = await stack.manager()
    result = await manager.submit(decision(1, price=2.02), STATE)  # rests behind 100
    assert result.state is OrderState.EXECUTABLE
    stack.feed(runner_change(1, trd=[(2.02, 210)]))  # 105 matched: 100 ahead, 5 to us
    assert await manager.sync() == 1
    order = manager.orders[result.ref]
    assert order.size_matched == 5 and order.size_remaining == 5
    assert manager.positions.market(MARKET).pnl_if(1) == pytest.approx(5 * 1.02)
    assert (await manager.journal.events(result.ref))[-1].kind == "order_update"
    await manager.journal.close()


async def test_cancel_journals_intent_then_result(stack):
    manager = await stack.manager()
    result = await manager.submit(decision(1, price=2.2), STATE)
    cancelled = await manager.cancel(result.ref)
    assert cancelled.state is OrderState.COMPLETE and cancelled.size_cancelled == 10
    kinds = [e.kind for e in await manager.journal.events(result.ref)]
    assert kinds[-2:] == ["cancel_intent", "cancelled"]
    await manager.journal.close()


async def test_kill_switch_cancels_everything_and_blocks_new_orders(stack):
    manager = await stack.manager()
    refs = [(await manager.submit(decision(n, price=2.2 + n / 10), STATE)).ref for n in range(3)]
    assert await manager.kill("drawdown") == 3
    assert all(manager.orders[r].state is OrderState.COMPLETE for r in refs)
    assert all(o.size_remaining == 0 for o in stack.sim.all_orders())
    blocked = await manager.submit(decision(9), STATE)
    assert blocked.reject_reason is RejectReason.KILL_SWITCH
    await manager.journal.close()


async def test_settlement_feeds_the_daily_loss_limit(tmp_path):
    stack = Stack(tmp_path, RiskConfig(daily_loss_limit=5.0))
    manager = await stack.manager()
    await manager.submit(decision(1), STATE)  # back 10 @ 2.0 on 1, matched
    net = await manager.settle_market(MARKET, 2, 0.05)
    assert net == pytest.approx(-10.0)
    other = MarketState("1.43", "OPEN", runner_ids=(1, 2))
    blocked = await manager.submit(
        OrderDecision("strat", "x", "1.43", 1, Side.BACK, 2.0, 2.0), other
    )
    assert blocked.reject_reason is RejectReason.DAILY_LOSS
    await manager.journal.close()
    restarted = await stack.manager()
    await restarted.start()
    assert MARKET not in restarted.positions.markets  # settled markets are not rebuilt
    await restarted.journal.close()


async def test_kill_switch_during_a_send_cancels_the_new_order(stack):
    manager = await stack.manager()

    async def kill_now() -> None:
        manager.risk.kill_switch.engage("operator", stack.clock())

    stack.transport.after_place = kill_now
    result = await manager.submit(decision(1, price=2.2), STATE)
    assert result.state is OrderState.COMPLETE
    assert manager.orders[result.ref].size_cancelled == 10
    assert all(o.size_remaining == 0 for o in stack.sim.all_orders())
    await manager.journal.close()


async def test_an_answer_overtaken_by_an_order_update_does_not_roll_back(stack):
    manager = await stack.manager()

    async def fill_and_sync() -> None:
        stack.feed(runner_change(1, trd=[(2.02, 220)]))  # 110 matched: 100 ahead, 10 to us
        await manager.sync([MARKET])

    stack.transport.after_place = fill_and_sync
    result = await manager.submit(decision(1, price=2.02), STATE)
    order = manager.orders[result.ref]
    assert (order.state, order.size_matched) == (OrderState.COMPLETE, 10)
    kinds = [e.kind for e in await manager.journal.events(result.ref)]
    assert kinds == ["intent", "order_update", "placed_stale"]
    assert manager.positions.market(MARKET).pnl_if(1) == pytest.approx(10 * 1.02)
    await manager.journal.close()


async def test_kill_switch_finds_and_cancels_orders_of_unknown_outcome(stack):
    manager = await stack.manager()
    stack.transport.lose_answer = 1
    original_lookup = manager._lookup

    async def no_lookup(order):
        return order  # the lookup after the lost answer fails too

    manager._lookup = no_lookup
    result = await manager.submit(decision(1, price=2.2), STATE)
    manager._lookup = original_lookup
    assert result.state is OrderState.UNKNOWN
    assert await manager.kill("operator") == 1
    assert manager.orders[result.ref].state is OrderState.COMPLETE
    assert all(o.size_remaining == 0 for o in stack.sim.all_orders())
    await manager.journal.close()


async def test_an_older_view_never_shrinks_the_matched_size(stack):
    manager = await stack.manager()
    result = await manager.submit(decision(1, price=2.02), STATE)
    stack.feed(runner_change(1, trd=[(2.02, 210)]))  # 5 matched
    [newer] = await manager.exchange.list_current_orders(market_ids=[MARKET])
    older = replace(newer, size_matched=0.0, average_price_matched=0.0, size_remaining=10.0)
    assert await manager.apply_exchange_order(newer)
    assert not await manager.apply_exchange_order(older)  # a stale poll arriving late
    assert not await manager.apply_exchange_order(newer)
    assert manager.orders[result.ref].size_matched == 5
    assert manager.positions.market(MARKET).pnl_if(1) == pytest.approx(5 * 1.02)
    await manager.journal.close()


async def test_metrics_follow_orders_exposure_pnl_and_the_kill_switch(stack):
    metrics = EngineMetrics()
    manager = await stack.manager(metrics=metrics)
    await manager.submit(decision(1, price=2.2), STATE)  # rests: exposure 10
    await manager.submit(decision(2, size=500.0), STATE)  # refused by risk

    def value(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    assert value("courtside_orders_total", state="intent") == 1
    assert value("courtside_orders_total", state="executable") == 1
    assert value("courtside_orders_total", state="risk_rejected") == 1
    assert value("courtside_exposure_gbp", scope="total") == 10.0
    assert value("courtside_daily_loss_limit_gbp") == 200.0
    await manager.kill("operator")
    assert value("courtside_kill_switch_engaged") == 1.0
    assert value("courtside_exposure_gbp", scope="total") == 0.0
    await manager.settle_market(MARKET, 1, 0.05)
    assert value("courtside_pnl_gbp", kind="realised") == 0.0
    await manager.journal.close()


def _open_by_scan(manager: OrderManager) -> list[tuple[str, int, str, float, float]]:
    """What the open-order index must give: every order that may still match, by full scan."""
    out = []
    for order in manager.orders.values():
        if order.state in (OrderState.INTENT, OrderState.UNKNOWN):
            remaining = order.size - order.size_matched
        elif order.state is OrderState.EXECUTABLE:
            remaining = order.size_remaining
        else:
            continue
        if remaining > 1e-6:
            out.append((order.market_id, order.selection_id, order.side, order.price, remaining))
    return out


def _open_by_index(manager: OrderManager) -> list[tuple[str, int, str, float, float]]:
    return [
        (o.market_id, o.selection_id, str(o.side), o.price, o.remaining)
        for o in manager.open_orders()
    ]


async def test_open_orders_come_from_an_index_that_follows_every_transition(stack):
    manager = await stack.manager()
    try:
        resting = [
            (await manager.submit(decision(n, price=p), STATE)).ref
            for n, p in enumerate((2.1, 2.12, 2.14, 2.16))
        ]
        matched = await manager.submit(decision(10, price=2.0), STATE)  # crosses: complete
        rejected = await manager.submit(decision(11, size=500.0), STATE)  # refused by risk
        assert _open_by_index(manager) == _open_by_scan(manager)
        assert [o[3] for o in _open_by_index(manager)] == [2.1, 2.12, 2.14, 2.16]

        await manager.cancel(resting[0])
        stack.feed(runner_change(1, trd=[(2.12, 3)]))  # trades at 2.12: part of ours fills
        await manager.sync()
        assert _open_by_index(manager) == _open_by_scan(manager)
        remaining = {o[3]: o[4] for o in _open_by_index(manager)}
        assert sorted(remaining) == [2.12, 2.14, 2.16]  # the cancelled 2.1 left the index
        assert 0.0 < remaining[2.12] < 10.0  # partly matched: still open
    finally:
        await manager.journal.close()

    restarted = await stack.manager()
    try:
        await restarted.start([MARKET])

        assert _open_by_index(restarted) == _open_by_scan(restarted)
        assert sorted(o[3] for o in _open_by_index(restarted)) == [2.12, 2.14, 2.16]
        assert restarted.orders[matched.ref].state is OrderState.COMPLETE
        assert restarted.orders[rejected.ref].state is OrderState.RISK_REJECTED
    finally:
        await restarted.journal.close()
