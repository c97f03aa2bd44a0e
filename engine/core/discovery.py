"""Market discovery, engine side: the engine follows what a `MarketDiscovery` finds.

Live Betfair stream definitions carry no runner names, so the markets to follow (and the names the
match registry links by) come from the betting API's catalogue; the adapter lives in
`adapters/betfair/catalogue.py` and the loopback exchange answers the same call, so demo, paper
and live discover markets the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from engine.core.engine import Engine
from engine.logs import get_logger
from engine.registry import MarketInfo

_log = get_logger("core.discovery")


class MarketDiscovery(Protocol):
    """Today's tennis match-odds markets, in play or about to start."""

    async def markets(self) -> list[MarketInfo]: ...


async def discover_once(engine: Engine, discovery: MarketDiscovery) -> int:
    """Follow every market not followed yet; returns how many were added."""
    found = await discovery.markets()
    added = 0
    for info in found:
        if info.market_id not in engine.markets:
            engine.follow(info)
            added += 1
    if added:
        _log.info("markets_discovered", added=added, listed=len(found))
    return added


async def keep_discovering(
    engine: Engine, discovery: MarketDiscovery, interval_s: float, stop: asyncio.Event
) -> None:
    """`discover_once` every `interval_s` wall seconds until `stop` (errors are logged, retried)."""
    while not stop.is_set():
        try:
            await discover_once(engine, discovery)
        except Exception as exc:  # a failed listing must not stop the daemon
            _log.warning("discovery_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
