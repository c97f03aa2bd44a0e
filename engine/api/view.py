"""What the control API reads: the `EngineView` protocol and `EngineBoard`, its in-memory
implementation (the daemon publishes each match's state and latest prediction to the board; the
API serves from it without touching the hot path's objects)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engine.clock import Clock
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.prediction import PredictionRecord


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One feed (market stream, order stream, score feed): connected, and seconds since its last
    message (None: never) against the age at which it counts as stale."""

    name: str
    connected: bool
    age_s: float | None
    stale_after_s: float

    @property
    def ok(self) -> bool:
        return self.connected and self.age_s is not None and self.age_s <= self.stale_after_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "age_s": self.age_s,
            "stale_after_s": self.stale_after_s,
            "ok": self.ok,
        }


@dataclass(frozen=True, slots=True)
class Health:
    """live: the process answers; ready: every feed is connected and fresh; kill_engaged: the
    kill switch has been pulled (the engine is alive but will not trade)."""

    live: bool
    feeds: tuple[FeedHealth, ...]
    kill_engaged: bool = False

    @property
    def ready(self) -> bool:
        return self.live and bool(self.feeds) and all(feed.ok for feed in self.feeds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "live": self.live,
            "ready": self.ready,
            "kill_engaged": self.kill_engaged,
            "feeds": {feed.name: feed.as_dict() for feed in self.feeds},
        }


@dataclass(frozen=True, slots=True)
class PricingInputs:
    """What the physics model prices a match with now: serve-point probabilities, rules, score."""

    pa: float
    pb: float
    rules: MatchRules
    state: MatchState


class EngineView(Protocol):
    """The engine as the control API sees it."""

    def matches(self) -> list[dict[str, Any]]:
        """One summary per followed match."""
        ...

    def match(self, match_id: str) -> dict[str, Any] | None:
        """State and latest prediction of one match; None if not followed."""
        ...

    def pricing_inputs(self, match_id: str) -> PricingInputs | None:
        """Current physics inputs of a match (for /whatif); None if unknown or not priced."""
        ...

    def health(self) -> Health: ...

    def kill(self, reason: str) -> None:
        """Engage the kill switch (cancel everything, no new orders)."""
        ...


@dataclass(slots=True)
class _FeedState:
    connected: bool
    last_message_ts: float | None
    stale_after_s: float


class EngineBoard:
    """In-memory `EngineView`: the engine publishes, the API reads. Single event loop, no locks."""

    def __init__(self, clock: Clock, on_kill: Callable[[str], None] | None = None) -> None:
        self._clock = clock
        self._on_kill = on_kill
        self._feeds: dict[str, _FeedState] = {}
        self._states: dict[str, dict[str, Any]] = {}
        self._predictions: dict[str, PredictionRecord] = {}
        self._pricing: dict[str, PricingInputs] = {}
        self.kill_reason: str | None = None

    # -- written by the engine -----------------------------------------------------------------

    def set_feed(self, name: str, *, connected: bool, stale_after_s: float) -> None:
        feed = self._feeds.get(name)
        last = feed.last_message_ts if feed is not None else None
        self._feeds[name] = _FeedState(connected, last, stale_after_s)

    def feed_message(self, name: str) -> None:
        """A message arrived on a feed (call from the source, stamps the clock's time)."""
        feed = self._feeds.get(name)
        if feed is not None:
            feed.last_message_ts = self._clock.time()

    def publish(
        self,
        match_id: str,
        state: dict[str, Any],
        prediction: PredictionRecord | None = None,
        pricing: PricingInputs | None = None,
    ) -> None:
        """Replace a match's published state (and prediction / pricing inputs when given)."""
        self._states[match_id] = dict(state)
        if prediction is not None:
            self._predictions[match_id] = prediction
        if pricing is not None:
            self._pricing[match_id] = pricing

    def forget(self, match_id: str) -> None:
        self._states.pop(match_id, None)
        self._predictions.pop(match_id, None)
        self._pricing.pop(match_id, None)

    # -- EngineView ----------------------------------------------------------------------------

    def matches(self) -> list[dict[str, Any]]:
        out = []
        for match_id, state in sorted(self._states.items()):
            prediction = self._predictions.get(match_id)
            summary = {"match_id": match_id, **state}
            if prediction is not None:
                summary["fair_prob"] = prediction.fair_prob
                summary["market_prob"] = prediction.market_prob
                summary["gate"] = str(prediction.gate.reason)
            out.append(summary)
        return out

    def match(self, match_id: str) -> dict[str, Any] | None:
        state = self._states.get(match_id)
        if state is None:
            return None
        prediction = self._predictions.get(match_id)
        return {
            "match_id": match_id,
            "state": state,
            "prediction": prediction.as_dict() if prediction is not None else None,
        }

    def pricing_inputs(self, match_id: str) -> PricingInputs | None:
        return self._pricing.get(match_id)

    def health(self) -> Health:
        now = self._clock.time()
        feeds = tuple(
            FeedHealth(
                name,
                feed.connected,
                None if feed.last_message_ts is None else max(0.0, now - feed.last_message_ts),
                feed.stale_after_s,
            )
            for name, feed in sorted(self._feeds.items())
        )
        return Health(True, feeds, self.kill_reason is not None)

    def kill(self, reason: str) -> None:
        self.kill_reason = reason
        if self._on_kill is not None:
            self._on_kill(reason)
