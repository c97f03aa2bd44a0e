"""The engine hands the strategy its position view when the order sink can tell it: on a real
recorded match, with a real risk manager and position book behind the sink, the divergence
strategy then asks only for orders the risk check accepts (without the view it runs into the
exposure limits, as the demo did)."""

from __future__ import annotations

from engine.clock import SimulatedClock
from engine.core import CoreConfig, Engine, EngineParts
from engine.core.emulators import EmulatorSet
from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.position_view import build_position_view
from engine.execution.positions import PositionBook
from engine.execution.risk import RejectReason, RiskManager
from engine.execution.types import MarketState, OrderRequest
from engine.gate import GateConfig
from engine.gate.decide import GateDecision
from engine.prediction import PredictionRecord
from engine.strategy import BookView, MatchView, OrderIntent, PositionView
from strategies.divergence import DivergenceStrategy

PERMISSIVE = GateConfig(emu_error_max=1.0, distress_threshold=1.0, min_edge=0.001, emu_min_points=1)


class FillingSink:
    """An OrderSink over a real RiskManager: each accepted intent is filled in full at once."""

    def __init__(self) -> None:
        self.clock = SimulatedClock(0.0)
        self.positions = PositionBook()
        self.risk = RiskManager(
            RiskConfig(), StakingConfig(), self.positions, lambda: int(self.clock.time() * 1000)
        )
        self.accepted = 0

    def submit(
        self, intent: OrderIntent, market: MarketState, decision_id: str, commission: float
    ) -> None:
        assert intent.size is not None
        request = OrderRequest(
            intent.market_id,
            intent.selection_id,
            intent.side,
            intent.price,
            intent.size,
            decision_id,
        )
        if self.risk.check(request, market).accepted:
            self.accepted += 1
            self.positions.add_fill(
                intent.market_id, intent.selection_id, intent.side, intent.price, intent.size
            )

    def kill(self, reason: str) -> None:
        self.risk.kill_switch.engage(reason, 0)


class ViewingSink(FillingSink):
    """The same sink, able to tell the engine the position (as `ScheduledOrders` does)."""

    def position_view(self, market: MarketState, selections: tuple[int, int]) -> PositionView:
        return build_position_view(
            market.market_id,
            (*market.runner_ids, *(s for s in selections if s not in market.runner_ids)),
            self.positions.markets.get(market.market_id),
            (),
            self.risk.exposure_room(market),
        )


class RecordingDivergence(DivergenceStrategy):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[PositionView | None] = []

    def on_prediction(
        self, match: MatchView, prediction: PredictionRecord, gate: GateDecision, book: BookView
    ) -> list[OrderIntent]:
        self.seen.append(match.position)
        return super().on_prediction(match, prediction, gate, book)


def _run(events, tiny_models, sink: FillingSink) -> RecordingDivergence:
    strategy = RecordingDivergence()
    engine = Engine(
        EngineParts(core=CoreConfig(), gate=PERMISSIVE),
        sink.clock,
        emulators=EmulatorSet.load(tiny_models, "gru_full.onnx", "gru_lite.onnx"),
        strategy=strategy,
        orders=sink,
    )
    sink.clock.advance_to(events[0][0])
    for ts, kind, payload in events:
        sink.clock.advance_to(ts)
        if kind == 0:
            engine.on_market_change(payload["pt"], payload.get("mc", []))
        else:
            engine.on_score_tick(payload)
    return strategy


def test_without_a_view_the_strategy_runs_into_the_exposure_limits(match_events, tiny_models):
    _meta, events = match_events
    sink = FillingSink()

    strategy = _run(events, tiny_models, sink)

    assert strategy.seen and all(position is None for position in strategy.seen)
    assert sink.risk.rejections[RejectReason.SELECTION_EXPOSURE] > 0


def test_with_the_view_every_order_it_asks_for_is_accepted(match_events, tiny_models):
    _meta, events = match_events
    sink = ViewingSink()

    strategy = _run(events, tiny_models, sink)

    market_ids = {p.market_id for p in strategy.seen if p is not None}
    assert strategy.seen and all(position is not None for position in strategy.seen)
    assert len(market_ids) == 1
    assert sink.accepted > 0
    assert sum(sink.risk.rejections.values()) == 0, sink.risk.rejections
    assert sink.risk.market_exposure(market_ids.pop()) <= RiskConfig().max_selection_exposure
