"""Prometheus metrics of the engine (DESIGN.md §9) on a dedicated registry.

Each `EngineMetrics` owns its own `CollectorRegistry`, never the process-global one, so tests and
replay workers in one process never share or collide on series. The daemon serves it on /metrics;
replay writes it to a text file (`write_textfile`) for the node exporter's textfile collector.

Hot-path metrics (stage latencies, messages by type, gate decisions, the per-point emulator error
series) are plain Python numbers updated without locks and turned into Prometheus families only
when the registry is collected (a scrape or a textfile write): prometheus-client's own
Histogram.observe, Counter.inc and Gauge.set take a lock and cost about a microsecond each (more
with a labels() look-up), several times the gate itself. This is safe because the engine
is single-threaded: the event loop both updates and serves them. Everything that changes at human
speed (orders, exposure, P&L, staleness, reconnects) uses prometheus-client's types directly.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, write_to_textfile
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

PREFIX: Final = "courtside"

#: Stage latency buckets in seconds: 1 µs … 50 ms, dense around the 100 µs – 2 ms budget.
LATENCY_BUCKETS_S: Final[tuple[float, ...]] = (
    1e-6,
    2.5e-6,
    5e-6,
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2e-4,
    3e-4,
    5e-4,
    1e-3,
    2e-3,
    5e-3,
    1e-2,
    5e-2,
)


class Stage(StrEnum):
    """Hot-path stages timed per event (DESIGN.md §3)."""

    PARSE = "parse"
    BOOK_UPDATE = "book_update"
    SCORE_UPDATE = "score_update"
    FEATURES = "features"
    MODEL = "model"
    PHYSICS = "physics"
    GATE = "gate"
    DECISION = "decision"
    END_TO_END = "end_to_end"
    LOOKAHEAD = "lookahead"  # after a point's decision: pricing both outcomes of the next point
    FORESIGHT = (
        "foresight"  # off the event path: Emu-full stepped for both outcomes of the next point
    )
    REHEARSAL = "rehearsal"  # a piece of the recorded match played by the shadow engine (no event)


_BOUNDS_NS: Final[tuple[int, ...]] = tuple(round(b * 1e9) for b in LATENCY_BUCKETS_S)


class StageTimer:
    """Times one stage into its own bucket counts. Not re-entrant: one timer per stage.

    ``t.start(); ...; t.stop()`` or ``with t: ...``; `stop` returns the nanoseconds measured.
    Buckets follow Prometheus semantics (an observation equal to a bound counts in that bucket).
    """

    __slots__ = ("_start", "counts", "stage", "sum_ns")

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.counts = [0] * (len(_BOUNDS_NS) + 1)  # last: above the largest bound (+Inf only)
        self.sum_ns = 0
        self._start = 0

    def start(self) -> None:
        self._start = time.perf_counter_ns()

    def stop(self) -> int:
        elapsed = time.perf_counter_ns() - self._start
        self.counts[bisect_left(_BOUNDS_NS, elapsed)] += 1
        self.sum_ns += elapsed
        return elapsed

    def observe_ns(self, elapsed_ns: int) -> None:
        """Record a duration measured elsewhere (e.g. socket receive to decision)."""
        self.counts[bisect_left(_BOUNDS_NS, elapsed_ns)] += 1
        self.sum_ns += elapsed_ns

    def __enter__(self) -> StageTimer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class CounterCell:
    """One labelled value of a `FastCounter`: ``cell.inc()`` is a plain attribute add."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class FastCounter:
    """A counter family kept as `CounterCell`s; exported by `_HotPathCollector`."""

    __slots__ = ("cells", "documentation", "labelnames", "name")

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.cells: dict[tuple[str, ...], CounterCell] = {}

    def labels(self, *values: str) -> CounterCell:
        """The cell for these label values (created on first use); resolve once, then inc()."""
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values!r}")
        cell = self.cells.get(values)
        if cell is None:
            cell = self.cells[values] = CounterCell()
        return cell

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, cell in self.cells.items():
            family.add_metric(list(values), cell.value)
        return family


class GaugeCell:
    """One labelled value of a `FastGauge`: ``cell.set(v)`` is a plain attribute store."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)


class FastGauge:
    """A gauge family kept as `GaugeCell`s; exported by `_HotPathCollector`."""

    __slots__ = ("cells", "documentation", "labelnames", "name")

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.cells: dict[tuple[str, ...], GaugeCell] = {}

    def labels(self, *values: str) -> GaugeCell:
        """The cell for these label values (created on first use)."""
        cell = self.cells.get(values)
        if cell is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values!r}")
            cell = self.cells[values] = GaugeCell()
        return cell

    def family(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, cell in self.cells.items():
            family.add_metric(list(values), cell.value)
        return family


class _HotPathCollector(Collector):
    """Turns the lock-free hot-path metrics into Prometheus families at collection time."""

    def __init__(
        self,
        timers: Iterable[StageTimer],
        counters: Iterable[FastCounter],
        gauges: Iterable[FastGauge] = (),
    ) -> None:
        self._timers = tuple(timers)
        self._counters = tuple(counters)
        self._gauges = tuple(gauges)

    def collect(self) -> Iterator[Metric]:
        histogram = HistogramMetricFamily(
            f"{PREFIX}_stage_latency_seconds",
            "Time spent in one hot-path stage per event",
            labels=["stage"],
        )
        bounds = [f"{b:g}" for b in LATENCY_BUCKETS_S]
        for timer in self._timers:
            cumulative, buckets = 0, []
            for bound, count in zip(bounds, timer.counts, strict=False):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            buckets.append(("+Inf", float(cumulative + timer.counts[-1])))
            histogram.add_metric([timer.stage], buckets, sum_value=timer.sum_ns * 1e-9)
        yield histogram
        for counter in self._counters:
            yield counter.family()
        for gauge in self._gauges:
            yield gauge.family()


class EngineMetrics:
    """Every engine metric, registered on `self.registry`.

    Names (prefix ``courtside_``) are the contract of ops/prometheus/alerts.yml and
    ops/grafana/dashboard.json; a test checks that both only reference names defined here.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        reg = self.registry
        self._timers = {stage: StageTimer(str(stage)) for stage in Stage}
        self.messages = FastCounter(
            f"{PREFIX}_messages",
            "Messages received, by source and type (mcm, ocm, heartbeat, status, score, ...)",
            ("source", "type"),
        )
        self.gate_decisions = FastCounter(
            f"{PREFIX}_gate_decisions",
            "Trust-gate decisions by reason (open = every check passed)",
            ("reason",),
        )
        self.malformed = Counter(
            f"{PREFIX}_malformed_messages",
            "Messages that could not be parsed or applied, by source",
            ["source"],
            registry=reg,
        )
        self.score_ticks = FastCounter(  # one per tick: lock-free like the other hot counters
            f"{PREFIX}_score_ticks",
            "Score ticks by what the state machine did with them",
            ("outcome",),
        )
        self.orders = Counter(
            f"{PREFIX}_orders",
            "Order state transitions (placed, matched, cancelled, lapsed, failed, ...)",
            ["state"],
            registry=reg,
        )
        self.exposure = Gauge(
            f"{PREFIX}_exposure_gbp",
            "Worst-case loss including unmatched orders, by scope (total or a match id)",
            ["scope"],
            registry=reg,
        )
        self.pnl = Gauge(
            f"{PREFIX}_pnl_gbp",
            "Profit and loss of the current UTC day, realised (settled, net of commission) and"
            " unrealised (marked to the market)",
            ["kind"],
            registry=reg,
        )
        self.daily_loss_limit = Gauge(
            f"{PREFIX}_daily_loss_limit_gbp",
            "The configured daily loss limit (risk.daily_loss_limit)",
            registry=reg,
        )
        self.kill_switch = Gauge(
            f"{PREFIX}_kill_switch_engaged",
            "1 while the kill switch is engaged (no new orders, everything cancelled)",
            registry=reg,
        )
        # per point per match: kept lock-free like the stage timers (see the module docstring)
        self.emulator_error = FastGauge(
            f"{PREFIX}_emulator_rolling_abs_error",
            "Rolling mean |emulator - market| over the gate window, by match and model",
            ("match", "model"),
        )
        self.emulator_sq_error = FastCounter(
            f"{PREFIX}_emulator_squared_error",
            "Sum of squared emulator errors (probability units), by model: RMSE over any window"
            " is sqrt(increase(this) / increase(courtside_emulator_points))",
            ("model",),
        )
        self.emulator_points = FastCounter(
            f"{PREFIX}_emulator_points",
            "Points with an emulator price and a market price, by model",
            ("model",),
        )
        self.physics_lookahead = FastCounter(
            f"{PREFIX}_physics_lookahead",
            "Points whose physics was priced ahead, after the previous point (hit), or had to be"
            " priced on the spot (miss: an outcome nobody foresaw, e.g. a corrected score)",
            ("result",),
        )
        self.emulator_foresight = FastCounter(
            f"{PREFIX}_emulator_foresight",
            "Points whose token and Emu-full step were taken ahead, against the book as it stood"
            " (hit), or built and stepped on the spot (miss: the book or the score moved since);"
            " error: a foresight that raised (the point then runs on the spot)",
            ("result",),
        )
        self.rehearsals = FastCounter(
            f"{PREFIX}_rehearsals",
            "Rehearsal pieces played through the shadow engine to keep the point path in the CPU"
            " caches (played: a fresh shadow, a match start or a point), or the failure that"
            " stopped rehearsing (failed)",
            ("result",),
        )
        reg.register(
            _HotPathCollector(
                self._timers.values(),
                (
                    self.messages,
                    self.gate_decisions,
                    self.score_ticks,
                    self.emulator_sq_error,
                    self.emulator_points,
                    self.physics_lookahead,
                    self.emulator_foresight,
                    self.rehearsals,
                ),
                (self.emulator_error,),
            )
        )
        self.feed_staleness = Gauge(
            f"{PREFIX}_feed_staleness_seconds",
            "Seconds since the last message on a feed (market stream, order stream, score feed)",
            ["feed"],
            registry=reg,
        )
        self.feed_connected = Gauge(
            f"{PREFIX}_feed_connected",
            "1 while the feed's connection is up",
            ["feed"],
            registry=reg,
        )
        self.conflations = Counter(
            f"{PREFIX}_stream_conflations",
            "Market-stream messages the exchange marked as conflated (con=true)",
            registry=reg,
        )
        self.reconnects = Counter(
            f"{PREFIX}_reconnects",
            "Reconnections by feed",
            ["feed"],
            registry=reg,
        )
        self.matches_followed = Gauge(
            f"{PREFIX}_matches_followed",
            "Matches followed, by whether they are tradable (a score feed is linked)",
            ["tradable"],
            registry=reg,
        )
        self._gate_cells: dict[str, CounterCell] = {}
        self._emulator_cells: dict[str, tuple[CounterCell, CounterCell]] = {}
        self.daily_loss_limit.set(0.0)
        self.kill_switch.set(0.0)

    # -- hot-path helpers ----------------------------------------------------------------------

    def stage_timer(self, stage: Stage) -> StageTimer:
        """The (shared, pre-resolved) timer of a stage."""
        return self._timers[stage]

    def message_counter(self, source: str, kind: str) -> CounterCell:
        """Pre-resolve a messages cell once, then call ``.inc()`` per message."""
        return self.messages.labels(source, kind)

    def count_gate(self, reason: str) -> None:
        """Count one gate decision by its reason label."""
        cell = self._gate_cells.get(reason)
        if cell is None:
            cell = self._gate_cells[reason] = self.gate_decisions.labels(reason)
        cell.value += 1.0

    def observe_emulator(self, model: str, emu_price: float, market_prob: float) -> None:
        """One point's emulator error: feeds the RMSE counters behind the 3-day alert."""
        cells = self._emulator_cells.get(model)
        if cells is None:
            cells = (self.emulator_sq_error.labels(model), self.emulator_points.labels(model))
            self._emulator_cells[model] = cells
        error = emu_price - market_prob
        cells[0].value += error * error
        cells[1].value += 1.0

    # -- export --------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)

    def write_textfile(self, path: str | Path) -> None:
        """Write the registry atomically to `path` (textfile-collector format)."""
        write_to_textfile(str(path), self.registry)

    def metric_names(self) -> set[str]:
        """Every sample name this registry can expose (``_total``, ``_bucket``... included)."""
        names: set[str] = set()
        for family in self.registry.collect():
            if family.type == "counter":
                names.update({f"{family.name}_total", f"{family.name}_created"})
            elif family.type == "histogram":
                names.update(
                    f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count", "_created")
                )
            else:
                names.add(family.name)
        return names
