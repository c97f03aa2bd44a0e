"""The engine: sources call in, one synchronous pass decides (DESIGN.md §3).

Market changes update the tick-indexed cache and re-evaluate the gate of the market's match (a
liquidity collapse or a suspension closes it between points); score ticks drive the score machines
and, on every point, the whole pipeline: physics (fair price and the what-if values for the next
point) → features (token with the current book) → Emu-full one step → trust gate →
prediction record → strategy → order sink. After the decision, the same call steps Emu-lite,
publishes, and prices both outcomes of the next point (`engine.core.lookahead`), so the next
point's physics is a lookup. Given `defer` (the daemon's loop.call_soon), the engine also foresees
the next point's tokens and Emu-full steps between events (`engine.core.foresight`), so a point
whose book has not moved since only commits its step. A timer re-evaluates every gate so that a
silent feed closes it.
Nothing here awaits; every stage is timed into `EngineMetrics`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from engine.api.view import EngineBoard, PricingInputs
from engine.clock import Clock, TimerHandle
from engine.core.book_features import mid_odds, summarise
from engine.core.config import CoreConfig
from engine.core.emulators import EmulatorSet
from engine.core.foresight import ForeseenOutcome, Foresight
from engine.core.lookahead import PointPrice, price_point, speculate
from engine.core.match import FollowedMarket, MatchContext, Pricing
from engine.core.orders import OrderSink
from engine.execution.types import MarketState
from engine.features.builders import FloatArray, build_static
from engine.features.inputs import BookSummary, ScoreInputs
from engine.features.match import MatchFeatures, PointEnded
from engine.gate.book import liquidity, market_prob
from engine.gate.config import GateConfig
from engine.gate.decide import GateDecision, evaluate
from engine.gate.mto import MtoTracker
from engine.gate.state import GateState
from engine.gate.stats import GateStats
from engine.logs import get_logger
from engine.market.book import MarketBook, RunnerBook
from engine.market.cache import MarketCache
from engine.market.update import MarketUpdate
from engine.metrics import EngineMetrics, Stage
from engine.physics.calibration import PhysicsConfig, invert_prematch
from engine.physics.devig import devig
from engine.physics.inplay import ServeStrengthTracker, opening_fair, recalibrate
from engine.physics.pricing import price
from engine.physics.rules import MatchRules
from engine.physics.serve_prior import load_serve_sum_prior, match_serve_sum
from engine.physics.state import MatchState
from engine.prediction import EmulatorPrice, PredictionRecord
from engine.registry import (
    MarketInfo,
    MatchRegistry,
    RegistryConfig,
    ScoreMatchInfo,
    market_info_from_definition,
)
from engine.score.book import ScoreBook
from engine.score.machine import MatchScoreMachine
from engine.score.stats import STATE_CHANGING
from engine.score.ticks import MatchStart, MtoStart, Point, ScoreTick, Snapshot
from engine.strategy import BookView, MatchView, Strategy

_log = get_logger("core.engine")

MARKET_FEED = "market_stream"
SCORE_FEED = "score_feed"
# foresight's default share of one loop turn: two to four matches' foresights with the GRU pair,
# so the matches that moved in one pass are usually all foreseen before the next event is read
FORESIGHT_TURN_NS = 500_000


def _is_first_point_of_match(after: MatchState) -> bool:
    """The score after the point is one point into the match."""
    return after.sets == (0, 0) and after.games == (0, 0) and sum(after.points) == 1


@dataclass(frozen=True, slots=True)
class EngineParts:
    """The engine.toml sections the core reads."""

    core: CoreConfig = field(default_factory=CoreConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)


ContextSource = Callable[[str], MatchContext | None]


def score_text(machine: MatchScoreMachine) -> str:
    """ "sets games points" from player 1's side, e.g. "1-0 4-5 2-3" (points as counts)."""
    score = machine.score
    if score is None:
        return ""
    return (
        f"{score.sets[0]}-{score.sets[1]} {score.games[0]}-{score.games[1]} "
        f"{score.points[0]}-{score.points[1]}"
    )


def _weak_kill(engine: Engine) -> Callable[[str], None]:
    """`engine.kill` without a strong reference to the engine. A board that held the bound method
    would make engine → board → engine a cycle, so a discarded engine (each rehearsal pass's
    shadow, a test's) would wait for the cycle collector, whose pauses land on events."""
    ref = weakref.WeakMethod(engine.kill)

    def kill(reason: str) -> None:
        method = ref()
        if method is not None:
            method(reason)

    return kill


class Engine:
    """Single-threaded engine; every public method is a synchronous source callback."""

    def __init__(
        self,
        parts: EngineParts,
        clock: Clock,
        metrics: EngineMetrics | None = None,
        board: EngineBoard | None = None,
        *,
        emulators: EmulatorSet | None = None,
        strategy: Strategy | None = None,
        orders: OrderSink | None = None,
        context: ContextSource | None = None,
        cache: MarketCache | None = None,
        book_listeners: Iterable[Callable[[MarketUpdate], None]] = (),
        prediction_listeners: Iterable[Callable[[PredictionRecord], None]] = (),
        defer: Callable[[Callable[[], None]], object] | None = None,
        foresight_turn_ns: int = FORESIGHT_TURN_NS,
    ) -> None:
        self.parts = parts
        self.clock = clock
        self.metrics = metrics if metrics is not None else EngineMetrics()
        self.board = board if board is not None else EngineBoard(clock, on_kill=_weak_kill(self))
        self.emulators = emulators if emulators is not None else EmulatorSet(None, None)
        self.strategy = strategy
        self.orders = orders
        self.context = context
        self.serve_prior = load_serve_sum_prior(parts.physics)  # None: the tour/surface table
        self.cache = cache if cache is not None else MarketCache()
        self.book_listeners = tuple(book_listeners)
        self.prediction_listeners = tuple(prediction_listeners)  # after the decision; no I/O
        self.registry = MatchRegistry(parts.registry)
        self.scores = ScoreBook()
        self.gate_stats = GateStats()
        self.markets: dict[str, FollowedMarket] = {}
        self.records: list[PredictionRecord] = []
        self.decisions: list[tuple[float, str, GateDecision]] = []
        self.keep_records = False  # keep every record and gate decision (tests, audits)
        self.kill_reason: str | None = None
        self.intents = 0
        self.predictions = 0
        self.decided_ns = 0  # perf_counter_ns when the last point's decision was made
        self.market_decided_ns = 0  # … and the last market message's (before the book listeners)
        self._mto: dict[str, MtoTracker] = {}
        self._last_tick_at: dict[str, float] = {}
        self._last_stream_at: float | None = None
        self._timer: TimerHandle | None = None
        # foresight (engine/core/foresight.py) runs through `defer` (the daemon: loop.call_soon);
        # without it, every point builds and steps on the spot
        self._defer = defer
        self._foresight_turn_ns = foresight_turn_ns
        self._foresee_due: dict[str, FollowedMarket] = {}
        self._foresee_scheduled = False
        self.foresight_steps_kept = 0  # foreseen steps a book change left valid (not re-run)
        self._model_names = self.emulators.names
        m = self.metrics
        self._t_book = m.stage_timer(Stage.BOOK_UPDATE)
        self._t_score = m.stage_timer(Stage.SCORE_UPDATE)
        self._t_features = m.stage_timer(Stage.FEATURES)
        self._t_model = m.stage_timer(Stage.MODEL)
        self._t_physics = m.stage_timer(Stage.PHYSICS)
        self._t_gate = m.stage_timer(Stage.GATE)
        self._t_decision = m.stage_timer(Stage.DECISION)
        self._t_total = m.stage_timer(Stage.END_TO_END)
        self._t_lookahead = m.stage_timer(Stage.LOOKAHEAD)
        self._lookahead_hit = m.physics_lookahead.labels("hit")
        self._lookahead_miss = m.physics_lookahead.labels("miss")
        self._t_foresight = m.stage_timer(Stage.FORESIGHT)
        self._foresight_hit = m.emulator_foresight.labels("hit")
        self._foresight_miss = m.emulator_foresight.labels("miss")
        self._foresight_error = m.emulator_foresight.labels("error")
        self._mcm = m.message_counter("market", "mcm")
        self._heartbeats = m.message_counter("market", "heartbeat")
        self._ticks = m.message_counter("score", "tick")
        self.board.set_feed(MARKET_FEED, connected=False, stale_after_s=parts.gate.stream_stale_s)
        self.board.set_feed(SCORE_FEED, connected=False, stale_after_s=parts.gate.score_stale_s)

    def warm_up(self) -> None:
        """Load the compiled physics and run each emulator once before any event arrives, so the
        first point of the day does not stall the loop on numba's cache load or ONNX Runtime's
        first run (hundreds of ms: long enough to make a feed look stale)."""
        for best_of in (3, 5):
            rules = MatchRules(best_of=best_of)
            pa, pb = invert_prematch(0.6, rules, self.parts.physics.serve_sum("atp", "hard"))
            price(pa, pb, rules, MatchState())
        float(recalibrate(0.6, 1.1))
        slot = self.emulators.new_slot()
        static = build_static(0.6, 3, "hard")
        self.emulators.reset(slot, static)
        self.emulators.step(slot, np.zeros(max(self.emulators.token_dim, 1), dtype=np.float32))

    # ------------------------------------------------------------------ market side

    def follow(self, info: MarketInfo) -> FollowedMarket:
        """Follow a market found by discovery (or by its first definition on the stream)."""
        slot = self.markets.get(info.market_id)
        link = self.registry.add_market(info)
        if slot is None:
            slot = FollowedMarket(
                info.market_id, link, GateState(self.parts.gate), self.emulators.new_slot()
            )
            self.markets[info.market_id] = slot
        else:
            slot.link = link
        self._publish(slot)
        return slot

    def on_market_change(
        self, pt: int, changes: Iterable[Mapping[str, Any]], received_ns: int | None = None
    ) -> None:
        """One `mcm` message: update the cache, then re-judge the affected matches."""
        start = time.perf_counter_ns() if received_ns is None else received_ns
        self._mcm.inc()
        now = self.clock.time()
        self._last_stream_at = now
        self.board.feed_message(MARKET_FEED)
        decided = 0
        for change in changes:
            timer = self._t_book
            timer.start()
            update = self.cache.apply(change, pt)
            timer.stop()
            if update is None:
                self.metrics.malformed.labels("market").inc()
                continue
            if update.malformed:
                self.metrics.malformed.labels("market").inc()
            slot = self.markets.get(update.market_id)
            book = update.book
            if (slot is None or update.definition_changed) and book.definition is not None:
                slot = self._follow_definition(slot, update.market_id, book.definition)
            if slot is not None:
                slot.book_changes += 1
                self._want_foresight(slot)
                if slot.link.tradable and book.inplay:
                    self._on_book(slot, book, now)
            decided = time.perf_counter_ns()
            # after this change's decision: the in-process simulated exchange of paper, demo and
            # replay (no order is decided on a market event, so it may see the book after)
            for listener in self.book_listeners:
                listener(update)
        if not decided:  # nothing applied (malformed): rejecting it was the decision
            decided = time.perf_counter_ns()
        self.market_decided_ns = decided
        self._t_total.observe_ns(decided - start)

    def on_stream_heartbeat(self) -> None:
        """A heartbeat (or any non-change message) proves the stream alive."""
        self._heartbeats.inc()
        self._last_stream_at = self.clock.time()
        self.board.feed_message(MARKET_FEED)

    def on_market_reset(self) -> None:
        """A fresh subscription image follows: forget the cached books (not the matches)."""
        self.cache.clear()

    def set_feed(self, name: str, connected: bool) -> None:
        """A source reports its connection state (/health, feed_connected gauge)."""
        gate = self.parts.gate
        stale = gate.stream_stale_s if name == MARKET_FEED else gate.score_stale_s
        self.board.set_feed(name, connected=connected, stale_after_s=stale)
        self.metrics.feed_connected.labels(name).set(1.0 if connected else 0.0)

    def _follow_definition(
        self, slot: FollowedMarket | None, market_id: str, definition: dict[str, Any]
    ) -> FollowedMarket | None:
        if definition.get("marketType") not in (None, "MATCH_ODDS"):
            return slot
        if slot is not None and slot.link.tradable:
            return slot
        info = market_info_from_definition(market_id, definition)
        if not any(r.name for r in info.runners) and slot is not None:
            return slot  # the live stream carries no names: discovery's catalogue did
        return self.follow(info)

    def _on_book(self, slot: FollowedMarket, book: MarketBook, now: float) -> None:
        runner = self._p1(slot, book)
        liquid = None
        if runner is not None:
            liquid = liquidity(runner, self.parts.gate.depth_levels)
            slot.gate_state.observe_depth(liquid[0])
        previous = slot.decision
        decision = self._judge(slot, book, now, liquid=liquid)
        if previous is None or decision.reason is not previous.reason:
            self._publish(slot)

    # ------------------------------------------------------------------ score side

    def on_score_heartbeat(self) -> None:
        self.board.feed_message(SCORE_FEED)

    def on_score_tick(self, tick: ScoreTick, received_ns: int | None = None) -> None:
        """One score tick: apply it and, on a point, run the full pipeline."""
        start = time.perf_counter_ns() if received_ns is None else received_ns
        self._ticks.inc()
        now = self.clock.time()
        self.board.feed_message(SCORE_FEED)
        timer = self._t_score
        timer.start()
        outcome = self.scores.apply(tick, received_at=now)
        timer.stop()
        match_id = tick.match_id
        self.metrics.score_ticks.labels(str(outcome)).inc()
        self._last_tick_at[match_id] = now
        mto = self._mto.get(match_id)
        if mto is None:
            mto = self._mto[match_id] = MtoTracker()
        mto.observe(tick, outcome)
        if outcome not in STATE_CHANGING:
            slot = self._slot_for(match_id)
            if slot is not None:  # an untrusted feed closes the gate now
                self._judge_and_publish(slot, now)
            return
        machine = self.scores.get(match_id)
        if machine is None:
            return
        if isinstance(tick, MatchStart):
            self._on_match_start(tick)
        slot = self._slot_for(match_id)
        if slot is None:
            return
        if isinstance(tick, MatchStart):
            self._start_pricing(slot, machine)
        elif isinstance(tick, Snapshot):
            self._resync(slot, machine)
        elif isinstance(tick, MtoStart):
            slot.features.on_mto()
            self._want_foresight(slot)  # the next point's tokens count from the MTO
        if isinstance(tick, Point):
            self._on_point(slot, machine, tick, now, start)
        else:
            self._judge_and_publish(slot, now)

    def _on_match_start(self, tick: MatchStart) -> None:
        self.registry.add_score_match(ScoreMatchInfo(tick.match_id, tick.players, tick.ts))
        market_id = self.registry.market_for_match(tick.match_id)
        if market_id is not None and market_id in self.markets:
            link = self.registry.link(market_id)
            if link is not None:
                self.markets[market_id].link = link

    def _slot_for(self, match_id: str) -> FollowedMarket | None:
        market_id = self.registry.market_for_match(match_id)
        if market_id is None:
            return None
        slot = self.markets.get(market_id)
        if slot is not None and slot.link.match_id != match_id:
            link = self.registry.link(market_id)
            if link is not None:
                slot.link = link
        return slot

    def _context(self, match_id: str, best_of: int) -> MatchContext:
        found = self.context(match_id) if self.context is not None else None
        if found is not None:
            return found
        core = self.parts.core
        return MatchContext("atp" if best_of == 5 else core.default_tour, core.default_surface)

    def _start_pricing(self, slot: FollowedMarket, machine: MatchScoreMachine) -> None:
        """Fix the pre-match line (de-vigged book now) and start the emulators from it."""
        rules = machine.rules
        book = self.cache.get(slot.market_id)
        if rules is None or book is None or slot.link.selections is None:
            return
        runners = [book.runner(s) for s in slot.link.selections]
        odds = [mid_odds(r) if r is not None else None for r in runners]
        if odds[0] is None or odds[1] is None:
            _log.warning("no_prematch_line", market_id=slot.market_id, match_id=machine.match_id)
            return
        physics = self.parts.physics
        p1, _p2 = devig(odds[0], odds[1], physics.devig)
        p1 = min(max(p1, 0.01), 0.99)
        context = self._context(machine.match_id, rules.best_of)
        serve_sum, sum_source = match_serve_sum(
            self.serve_prior,
            physics,
            tour=context.tour,
            surface=context.surface,
            best_of=rules.best_of,
            names=self.registry.player_names(slot.market_id),
            ts=self.clock.time(),
        )
        pa, pb = invert_prematch(p1, rules, serve_sum)
        params = physics.inplay(context.tour)
        slot.pricing = Pricing(
            p1, context, ServeStrengthTracker(pa, pb, params.strength), params.slope
        )
        slot.restart_features()
        slot.points = 0
        slot.point_depths = []
        self.emulators.reset(slot.emulators, build_static(p1, rules.best_of, context.surface))
        self._price_next_point(slot, machine)  # the first point, too, is a lookup
        _log.info(
            "match_priced",
            match_id=machine.match_id,
            market_id=slot.market_id,
            prematch=round(p1, 4),
            pa=round(pa, 4),
            pb=round(pb, 4),
            serve_sum=round(serve_sum, 4),
            serve_sum_source=sum_source,
            tour=context.tour,
            surface=context.surface,
        )

    def _resync(self, slot: FollowedMarket, machine: MatchScoreMachine) -> None:
        """A snapshot restored trust: emulator state and feature lags start over from it."""
        slot.restart_features()
        if slot.pricing is None:
            self._start_pricing(slot, machine)
            return
        rules = machine.rules
        if rules is not None:
            pricing = slot.pricing
            static = build_static(pricing.prematch_prob, rules.best_of, pricing.context.surface)
            self.emulators.reset(slot.emulators, static)
        self._price_next_point(slot, machine)  # from the snapshot's score

    def _on_point(
        self,
        slot: FollowedMarket,
        machine: MatchScoreMachine,
        tick: Point,
        now: float,
        start_ns: int,
    ) -> None:
        if slot.pricing is None:
            self._start_pricing(slot, machine)
        pricing = slot.pricing
        rules = machine.rules
        book = self.cache.get(slot.market_id)
        if pricing is None or rules is None:
            self._judge_and_publish(slot, now)
            return
        pricing.tracker.record_point(tick.server, tick.winner == tick.server)
        p1 = self._p1(slot, book) if book is not None else None
        market = market_prob(p1) if p1 is not None else None
        foresight, slot.foresight = slot.foresight, None
        if foresight is not None and not foresight.holds(slot, book):
            foresight = None
        if slot.points > 0 and market is not None:
            self._label_previous_point(slot, market)
        slot.points += 1
        state = machine.to_pricing_state()
        if state is None:  # the match is over
            score = machine.score
            winner = machine.winner
            if winner is None and score is not None and score.is_complete:
                winner = 1 if score.sets[0] > score.sets[1] else 2
            slot.fair = 1.0 if winner == 1 else 0.0 if winner == 2 else slot.fair
            slot.next_fair = None
            self._judge(slot, book, now, market)
            self._publish(slot)
            return
        timer = self._t_physics
        timer.start()
        pa, pb = pricing.tracker.current()
        priced = slot.lookahead.take(pa, pb, state, rules)
        if priced is None:  # not foreseen (a corrected score, a disputed server): price it now
            self._lookahead_miss.inc()
            priced = price_point(pa, pb, rules, state, pricing.slope)
        else:
            self._lookahead_hit.inc()
        chain, fair, won, lost = priced.chain, priced.fair, priced.won, priced.lost
        timer.stop()
        slot.fair = fair
        slot.next_fair = (won, lost)
        foreseen = (
            None if foresight is None else foresight.outcome_for(priced, tick.server, tick.winner)
        )
        if foresight is not None and foreseen is not None:
            self._foresight_hit.inc()
            slot.features = foreseen.features
            slot.point_depths = foresight.depths_after
            token = foreseen.token
            slot.emu_full = self.emulators.commit_full(slot.emulators, foreseen.branch)
        else:
            if self._defer is not None:
                self._foresight_miss.inc()
            timer = self._t_features
            timer.start()
            summary = self._book_summary(slot, book, p1, slot.point_depths)
            token = self._point_token(
                slot.features,
                summary,
                market=market,
                pricing=pricing,
                rules=rules,
                state=state,
                priced=priced,
                server=tick.server,
                winner=tick.winner,
            )
            timer.stop()
            timer = self._t_model
            timer.start()
            slot.emu_full = self.emulators.step_full(slot.emulators, token)
            timer.stop()
        decision = self._judge(slot, book, now, market)
        record = PredictionRecord(
            match_id=machine.match_id,
            point_index=slot.points,
            ts=now,
            fair_prob=fair,
            expected_games_diff=chain.expected_games_diff,
            set_score_pmf=chain.set_score_pmf,
            gate=decision,
            market_prob=market,
            emu_full=self._emu_price(0, slot.emu_full),
            fair_if_point_won=won,
            fair_if_point_lost=lost,
            score=score_text(machine),
        )
        self._decide(slot, record, decision, book)
        self.decided_ns = time.perf_counter_ns()
        self._t_total.observe_ns(self.decided_ns - start_ns)
        # after the decision: Emu-lite's step (the gate reads Emu-full only) and publishing
        timer = self._t_model
        timer.start()
        slot.emu_lite = self.emulators.step_lite(slot.emulators, token)
        timer.stop()
        if slot.emu_lite is not None:
            record = record.with_emu_lite(self._emu_price(1, slot.emu_lite))
        slot.prediction = record
        self.predictions += 1
        if self.keep_records:
            self.records.append(record)
        for listener in self.prediction_listeners:
            listener(record)
        self._publish(slot, PricingInputs(pa, pb, rules, state))
        self._price_next_point(slot, machine)

    def _price_next_point(self, slot: FollowedMarket, machine: MatchScoreMachine) -> None:
        """Price both outcomes of the coming point now, off any decision's path."""
        pricing, score = slot.pricing, machine.score
        if pricing is None or score is None:
            return
        timer = self._t_lookahead
        timer.start()
        slot.lookahead.outcomes = speculate(score, pricing.tracker, pricing.slope)
        timer.stop()
        self._want_foresight(slot)

    def _book_summary(
        self,
        slot: FollowedMarket,
        book: MarketBook | None,
        p1: RunnerBook | None,
        depth_history: list[float],
    ) -> BookSummary | None:
        """The book as a point's token sees it (inserts its depth into `depth_history`)."""
        selections = slot.link.selections
        if book is None or p1 is None or selections is None:
            return None
        p2 = book.runner(selections[1])
        stake = self.parts.core.book_stake
        return summarise(book, p1, p2, stake=stake, depth_history=depth_history)

    @staticmethod
    def _point_token(
        features: MatchFeatures,
        summary: BookSummary | None,
        *,
        market: float | None,
        pricing: Pricing,
        rules: MatchRules,
        state: MatchState,
        priced: PointPrice,
        server: int,
        winner: int,
    ) -> FloatArray:
        """The token of a point won by `winner` that led to `state`; advances `features`."""
        score_after = ScoreInputs(
            server=state.server,
            p1_sets=state.sets[0],
            p2_sets=state.sets[1],
            p1_games=state.games[0],
            p2_games=state.games[1],
            p1_points=state.points[0],
            p2_points=state.points[1],
            in_tiebreak=state.is_tiebreak(rules),
            rules=rules,
        )
        if features.counters.points_played == 0 and _is_first_point_of_match(state):
            # the first token's previous price and label: 0-0 and the market before the point
            features.on_match_open(opening_fair(pricing.prematch_prob, pricing.slope), market)
        return features.on_point(
            PointEnded(server, winner, score_after, priced.fair, priced.won, priced.lost, summary)
        )

    # ------------------------------------------------------------------ foresight

    def _want_foresight(self, slot: FollowedMarket) -> None:
        """Foresee `slot`'s next point once the event path is clear (coalesced per loop pass);
        nothing without `defer` or before the match's next point is priced."""
        defer = self._defer
        if defer is None or not slot.lookahead.outcomes:
            return
        self._foresee_due[slot.market_id] = slot
        if not self._foresee_scheduled:
            self._foresee_scheduled = True
            defer(self.foresee_due)

    def foresee_due(self) -> None:
        """Foresee the next point of the matches whose book or score moved since they were last
        foreseen (engine/core/foresight.py), oldest first, one at least and then until
        `foresight_turn_ns` is spent; the rest wait for the loop's next turn, so the sockets are
        read in between and an event never waits behind more than that. Runs between events,
        never inside one."""
        self._foresee_scheduled = False
        due = self._foresee_due
        timer = self._t_foresight
        spent = 0
        while due:
            if spent and spent >= self._foresight_turn_ns:
                break
            slot = due.pop(next(iter(due)))
            timer.start()
            try:
                slot.foresight = self._foresee(slot)
            except Exception as exc:  # the point then runs on the spot, as without foresight
                slot.foresight = None
                self._foresight_error.inc()
                _log.warning(
                    "foresight_failed",
                    market_id=slot.market_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
            spent += timer.stop()
        if due and self._defer is not None:
            self._foresee_scheduled = True
            self._defer(self.foresee_due)

    def _foresee(self, slot: FollowedMarket) -> Foresight | None:
        """Both outcomes of the next point built and stepped against the book as it stands, the
        match's own state left as it is."""
        pricing, outcomes = slot.pricing, slot.lookahead.outcomes
        if pricing is None or not outcomes:
            return None
        book = self.cache.get(slot.market_id)
        p1 = self._p1(slot, book)
        market = market_prob(p1) if p1 is not None else None
        label = market if slot.points > 0 else None  # the previous point's, as the point applies
        depths_after = list(slot.point_depths)
        summary = self._book_summary(slot, book, p1, depths_after)
        # a branch still holds the previous foresight's step while Emu-full has not moved: a
        # book change that leaves a token as it was (a deep level, the other runner's volume)
        # needs no new step for it
        previous = slot.foresight
        if previous is not None and previous.full_steps != slot.emulators.full_steps:
            previous = None
        foreseen = []
        for branch, outcome in enumerate(outcomes):
            features = slot.features.copy()
            if label is not None:
                features.on_market_label(label)
            token = self._point_token(
                features,
                summary,
                market=market,
                pricing=pricing,
                rules=outcome.rules,
                state=outcome.state,
                priced=outcome,
                server=outcome.server,
                winner=outcome.winner,
            )
            held = None
            if previous is not None and branch < len(previous.outcomes):
                held = previous.outcomes[branch]
            if held is not None and np.array_equal(held.token, token):
                emu_full = held.emu_full
                self.foresight_steps_kept += 1
            else:
                emu_full = self.emulators.speculate_full(slot.emulators, token, branch)
            foreseen.append(ForeseenOutcome(outcome, features, token, emu_full, branch))
        return Foresight(
            book=book,
            book_changes=slot.book_changes,
            link=slot.link,
            pricing=pricing,
            features=slot.features,
            feature_changes=slot.features.changes,
            full_steps=slot.emulators.full_steps,
            points=slot.points,
            depth_history=slot.point_depths,
            depth_count=len(slot.point_depths),
            depths_after=depths_after,
            outcomes=tuple(foreseen),
        )

    def _label_previous_point(self, slot: FollowedMarket, market: float) -> None:
        """The market's reaction to the previous point is now known: the emulators' label."""
        slot.features.on_market_label(market)
        full_name, lite_name = self._model_names
        if slot.emu_full is not None:
            slot.gate_state.observe_point(slot.emu_full.price, market)
            self.metrics.observe_emulator(full_name, slot.emu_full.price, market)
            error = slot.gate_state.emu_error.mean
            if error is not None and slot.match_id is not None:
                self.metrics.emulator_error.labels(slot.match_id, full_name).set(error)
        if slot.emu_lite is not None:
            self.metrics.observe_emulator(lite_name, slot.emu_lite.price, market)

    def _emu_price(self, which: int, output: Any) -> EmulatorPrice | None:
        if output is None:
            return None
        return EmulatorPrice.from_output(
            self._model_names[which], output.price, output.logvar, output.distress
        )

    # ------------------------------------------------------------------ gate and decision

    def _p1(self, slot: FollowedMarket, book: MarketBook | None) -> RunnerBook | None:
        selections = slot.link.selections
        if book is None or selections is None:
            return None
        return book.runner(selections[0])

    def _judge(
        self,
        slot: FollowedMarket,
        book: MarketBook | None,
        now: float,
        market: float | None = None,
        *,
        liquid: tuple[float, float] | None = None,
    ) -> GateDecision:
        timer = self._t_gate
        timer.start()
        match_id = slot.link.match_id
        machine = self.scores.get(match_id) if match_id is not None else None
        runner = self._p1(slot, book)
        inputs = slot.gate_inputs
        inputs.fair_prob = slot.fair
        inputs.market_prob = (
            market if market is not None else (market_prob(runner) if runner is not None else None)
        )
        inputs.has_score_feed = slot.link.tradable
        inputs.suspended = (
            book is None or not book.open or machine is None or machine.status != "in_play"
        )
        last_stream = self._last_stream_at
        inputs.stream_age_s = None if last_stream is None else now - last_stream
        last_tick = self._last_tick_at.get(match_id) if match_id is not None else None
        inputs.score_age_s = None if last_tick is None else now - last_tick
        inputs.score_trusted = machine is not None and machine.trusted
        mto = self._mto.get(match_id) if match_id is not None else None
        inputs.mto_running = mto is not None and mto.running
        inputs.pts_since_mto = mto.pts_since_mto if mto is not None else None
        if liquid is not None:
            inputs.depth, inputs.cum_size = liquid
        elif runner is not None:
            inputs.depth, inputs.cum_size = liquidity(runner, self.parts.gate.depth_levels)
        else:
            inputs.depth = inputs.cum_size = 0.0
        inputs.distress = slot.emu_full.distress if slot.emu_full is not None else None
        decision = evaluate(self.parts.gate, slot.gate_state, inputs)
        timer.stop()
        self.gate_stats.count(decision.reason)
        self.metrics.count_gate(decision.reason)
        slot.decision = decision
        if self.keep_records:
            self.decisions.append((now, match_id or slot.market_id, decision))
        return decision

    def _judge_and_publish(self, slot: FollowedMarket, now: float) -> None:
        if not slot.link.tradable:
            return
        previous = slot.decision
        decision = self._judge(slot, self.cache.get(slot.market_id), now)
        if previous is None or decision.reason is not previous.reason:
            self._publish(slot)

    def _decide(
        self,
        slot: FollowedMarket,
        record: PredictionRecord,
        decision: GateDecision,
        book: MarketBook | None,
    ) -> None:
        strategy, orders = self.strategy, self.orders
        selections = slot.link.selections
        if (
            strategy is None
            or orders is None
            or book is None
            or selections is None
            or slot.link.match_id is None
            or self.kill_reason is not None
        ):
            return
        timer = self._t_decision
        timer.start()
        view = BookView.from_market(book)
        market = MarketState(
            slot.market_id,
            status=book.status or "",
            in_play=bool(book.inplay),
            runner_ids=tuple(r.selection_id for r in book),
            event_id=book.event_id or "",
        )
        # a sink with an order manager behind it (ScheduledOrders) tells the strategy its position;
        # built only if the strategy reads it (MatchView.position)
        position_of = getattr(orders, "position_view", None)
        source = None if position_of is None else partial(position_of, market, selections)
        match = MatchView(
            slot.link.match_id, slot.market_id, selections, record.score, position_source=source
        )
        intents = strategy.on_prediction(match, record, decision, view)
        for leg, intent in enumerate(intents):
            self.intents += 1
            decision_id = f"{slot.link.match_id}:{record.point_index}:{leg}"
            orders.submit(intent, market, decision_id, view.commission)
        timer.stop()

    # ------------------------------------------------------------------ timers, control

    def has_match_in_play(self) -> bool:
        """Whether a point can arrive now: some score-feed match is in play."""
        return any(machine.status == "in_play" for machine in self.scores)

    def evaluate_all(self) -> None:
        """Re-judge every linked match now (staleness has no event of its own)."""
        now = self.clock.time()
        for slot in self.markets.values():
            book = self.cache.get(slot.market_id)
            if slot.link.tradable and book is not None and not book.closed:
                self._judge_and_publish(slot, now)
        metrics = self.metrics
        if self._last_stream_at is not None:
            metrics.feed_staleness.labels(MARKET_FEED).set(max(0.0, now - self._last_stream_at))
        if self._last_tick_at:
            newest = max(self._last_tick_at.values())
            metrics.feed_staleness.labels(SCORE_FEED).set(max(0.0, now - newest))
        tradable = sum(1 for s in self.markets.values() if s.link.tradable)
        metrics.matches_followed.labels("true").set(tradable)
        metrics.matches_followed.labels("false").set(len(self.markets) - tradable)

    def start_timer(self) -> None:
        """Re-evaluate every `core.timer_s` (event seconds) until `stop_timer`."""

        def tick() -> None:
            self.evaluate_all()
            self._timer = self.clock.call_later(self.parts.core.timer_s, tick)

        self._timer = self.clock.call_later(self.parts.core.timer_s, tick)

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def kill(self, reason: str) -> None:
        """Kill switch: no new intents, and the order sink cancels what is open."""
        if self.kill_reason is not None:
            return
        self.kill_reason = reason
        self.board.kill_reason = reason
        self.metrics.kill_switch.set(1.0)
        _log.warning("kill_switch", reason=reason)
        if self.orders is not None:
            self.orders.kill(reason)

    # ------------------------------------------------------------------ publishing

    def _publish(self, slot: FollowedMarket, pricing: PricingInputs | None = None) -> None:
        match_id = slot.link.match_id
        machine = self.scores.get(match_id) if match_id is not None else None
        mto = self._mto.get(match_id) if match_id is not None else None
        decision = slot.decision
        state: dict[str, Any] = {
            "market_id": slot.market_id,
            "tradable": slot.link.tradable,
            "link": slot.link.how,
            "phase": machine.phase if machine is not None else "unknown",
            "trusted": machine.trusted if machine is not None else None,
            "score": score_text(machine) if machine is not None else "",
            "points": slot.points,
            "pts_since_mto": mto.pts_since_mto if mto is not None else None,
            "fair_prob": slot.fair,
            "next_point_fair": list(slot.next_fair) if slot.next_fair is not None else None,
            "gate_open": decision.open if decision is not None else False,
            "gate_reason": str(decision.reason) if decision is not None else "not_judged",
            "gate_rationale": decision.rationale() if decision is not None else "",
        }
        if match_id is not None:
            self.board.forget(slot.market_id)  # it was listed by market id until linked
        self.board.publish(match_id or slot.market_id, state, slot.prediction, pricing)

    def summary(self) -> dict[str, Any]:
        """Counts for the end-of-run report."""
        return {
            "markets_followed": len(self.markets),
            "matches_linked": sum(1 for s in self.markets.values() if s.link.tradable),
            "points_priced": sum(s.points for s in self.markets.values()),
            "predictions": self.predictions,
            "gate_decisions": self.gate_stats.as_dict(),
            "intents": self.intents,
            "physics_lookahead": {
                "hit": sum(s.lookahead.hits for s in self.markets.values()),
                "miss": sum(s.lookahead.misses for s in self.markets.values()),
            },
            "emulator_foresight": {
                "hit": int(self._foresight_hit.value),
                "miss": int(self._foresight_miss.value),
                "error": int(self._foresight_error.value),
                "steps_kept": self.foresight_steps_kept,
            },
            "emulators": [name for name in self._model_names if name],
            "kill_reason": self.kill_reason,
        }
