"""Tiny GRU emulators (full and lite) exported once per session, so the core steps real ONNX
graphs, and the events of one bundled sample match merged by time."""

import gzip
import heapq
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.clock import SimulatedClock
from engine.core.engine import Engine
from engine.score.ticks import ScoreTick, decode_tick

MATCH = "2013-wimbledon-1401"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.export import export_untrained_pair

    out = tmp_path_factory.mktemp("core-models")
    export_untrained_pair(out, "gru", seed=11, torch_seed=5, embed=8, hidden=16)
    return out


def sample_events(folder: Path) -> tuple[dict[str, Any], list[tuple[float, int, Any]]]:
    """(match.json, [(ts, 0, mcm dict) | (ts, 1, ScoreTick)]) in time order."""
    meta: dict[str, Any] = json.loads((folder / "match.json").read_text())
    stream = []
    with gzip.open(folder / f"{meta['market_id']}.gz", "rb") as handle:
        for line in handle:
            message = orjson.loads(line)
            stream.append((message["pt"] / 1000.0, 0, message))
    ticks: list[tuple[float, int, ScoreTick]] = [
        (tick.ts, 1, tick)
        for tick in map(decode_tick, (folder / "ticks.jsonl").read_bytes().splitlines())
    ]
    return meta, list(heapq.merge(stream, ticks, key=lambda e: (e[0], e[1])))


@pytest.fixture(scope="session")
def match_events(repo_root: Path) -> tuple[dict[str, Any], list[tuple[float, int, Any]]]:
    return sample_events(repo_root / "data" / "sample" / MATCH)


class IntentLog:
    """An OrderSink that keeps each intent's decision id: two runs' strategy outputs compare."""

    def __init__(self) -> None:
        self.intents: list[str] = []

    def submit(self, intent: Any, market: Any, decision_id: str, commission: float) -> None:
        self.intents.append(decision_id)

    def kill(self, reason: str) -> None:
        pass


@pytest.fixture(scope="session")
def intent_log() -> type[IntentLog]:
    return IntentLog


Feed = Callable[..., None]


def feed_events(
    engine: Engine,
    events: list[tuple[float, int, Any]],
    after: Callable[[float, int, Any], object] | None = None,
) -> None:
    """Hand `sample_events`-style events to the engine on its SimulatedClock, in order;
    `after(ts, kind, payload)` runs after each one."""
    clock = engine.clock
    assert isinstance(clock, SimulatedClock)
    for ts, kind, payload in events:
        clock.advance_to(ts)
        if kind == 0:
            engine.on_market_change(payload["pt"], payload.get("mc", []))
        else:
            engine.on_score_tick(payload)
        if after is not None:
            after(ts, kind, payload)


@pytest.fixture(scope="session")
def feed() -> Feed:
    return feed_events
