"""Synthetic markets for the simulator: stream changes built in code (tests, demos, paper runs).

They go through the real `engine.market.MarketCache`, so the simulator sees exactly the books and
updates it would see from a recorded or live stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Levels = Sequence[tuple[float, float]]


@dataclass(slots=True)
class ManualClock:
    """A clock the caller moves (epoch ms); the simulator never reads wall time itself."""

    now_ms: int = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> int:
        self.now_ms += ms
        return self.now_ms


def market_definition(
    runner_ids: Sequence[int],
    *,
    status: str = "OPEN",
    in_play: bool = False,
    bet_delay: int = 0,
    base_rate: float = 5.0,
    event_id: str = "1",
    winner: int | None = None,
    bet_delay_models: Sequence[str] = (),
) -> dict[str, Any]:
    """A MATCH_ODDS marketDefinition; with `winner` the runners carry WINNER/LOSER."""
    runners = []
    for index, selection_id in enumerate(runner_ids):
        runner_status = "ACTIVE"
        if winner is not None:
            runner_status = "WINNER" if selection_id == winner else "LOSER"
        runners.append({"id": selection_id, "status": runner_status, "sortPriority": index + 1})
    definition: dict[str, Any] = {
        "status": status,
        "inPlay": in_play,
        "betDelay": bet_delay,
        "marketBaseRate": base_rate,
        "eventId": event_id,
        "eventTypeId": "2",
        "marketType": "MATCH_ODDS",
        "numberOfWinners": 1,
        "bettingType": "ODDS",
        "turnInPlayEnabled": True,
        "runners": runners,
    }
    if bet_delay_models:
        definition["betDelayModels"] = list(bet_delay_models)
    return definition


def runner_change(
    selection_id: int,
    *,
    atb: Levels = (),
    atl: Levels = (),
    trd: Levels = (),
) -> dict[str, Any]:
    """A runner change: level replacements (size 0 removes) and cumulative traded volume."""
    change: dict[str, Any] = {"id": selection_id}
    if atb:
        change["atb"] = [list(level) for level in atb]
    if atl:
        change["atl"] = [list(level) for level in atl]
    if trd:
        change["trd"] = [list(level) for level in trd]
    return change


def market_change(
    market_id: str,
    *,
    definition: Mapping[str, Any] | None = None,
    runners: Sequence[Mapping[str, Any]] = (),
    image: bool = False,
) -> dict[str, Any]:
    """One `mc` entry for MarketCache.apply."""
    change: dict[str, Any] = {"id": market_id, "rc": [dict(r) for r in runners]}
    if definition is not None:
        change["marketDefinition"] = dict(definition)
    if image:
        change["img"] = True
    return change
