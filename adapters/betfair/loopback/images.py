"""Full market images for the loopback server's fresh subscriptions.

A client that subscribes without clk tokens to a live exchange receives every matching market as
it stands now (``img: true``), not the history. The composer folds market changes into plain
dicts with the stream's own replacement rules (level size 0 removes, an empty ``trd`` clears,
``img`` starts over) and renders them back as image changes. It is the server's state, kept apart
from the engine's tick-ladder cache on purpose: the tests compare one against the other.
"""

from __future__ import annotations

from typing import Any

_PRICE_LADDERS = ("atb", "atl", "spb", "spl")
_POSITION_LADDERS = ("batb", "batl", "bdatb", "bdatl")
_VALUES = ("ltp", "tv", "spn", "spf")


class _Runner:
    __slots__ = ("handicap", "ladders", "selection_id", "traded", "values")

    def __init__(self, selection_id: Any, handicap: Any) -> None:
        self.selection_id = selection_id
        self.handicap = handicap
        self.ladders: dict[str, dict[Any, Any]] = {}
        self.traded: dict[Any, Any] = {}
        self.values: dict[str, Any] = {}

    def apply(self, change: dict[str, Any]) -> None:
        for name, value in change.items():
            if name in _PRICE_LADDERS:
                ladder = self.ladders.setdefault(name, {})
                for price, size in value:
                    if size:
                        ladder[price] = size
                    else:
                        ladder.pop(price, None)
            elif name in _POSITION_LADDERS:
                ladder = self.ladders.setdefault(name, {})
                for position, price, size in value:
                    if size:
                        ladder[position] = [position, price, size]
                    else:
                        ladder.pop(position, None)
            elif name == "trd":
                if not value:
                    self.traded.clear()
                for price, size in value:
                    if size:
                        self.traded[price] = size
                    else:
                        self.traded.pop(price, None)
            elif name in _VALUES:
                self.values[name] = value

    def image(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {"id": self.selection_id}
        if self.handicap is not None:
            rendered["hc"] = self.handicap
        for name, ladder in self.ladders.items():
            if name in _PRICE_LADDERS:
                rendered[name] = [[price, size] for price, size in ladder.items()]
            else:
                rendered[name] = sorted(ladder.values())
        if self.traded:
            rendered["trd"] = [[price, size] for price, size in self.traded.items()]
        rendered.update(self.values)
        return rendered


class _Market:
    __slots__ = ("definition", "runners", "tv")

    def __init__(self) -> None:
        self.definition: dict[str, Any] | None = None
        self.tv: Any = None
        self.runners: dict[tuple[Any, Any], _Runner] = {}

    def image(self, market_id: str) -> dict[str, Any]:
        rendered: dict[str, Any] = {"id": market_id, "img": True}
        if self.definition is not None:
            rendered["marketDefinition"] = self.definition
        if self.tv is not None:
            rendered["tv"] = self.tv
        rendered["rc"] = [runner.image() for runner in self.runners.values()]
        return rendered


class ImageComposer:
    """Folds market changes in order; `images` renders the markets as ``img: true`` changes."""

    def __init__(self) -> None:
        self._markets: dict[str, _Market] = {}
        self.position = 0  # how many messages have been folded in

    def apply(self, changes: list[dict[str, Any]]) -> None:
        for change in changes:
            market_id = change.get("id")
            if not isinstance(market_id, str):
                continue
            market = self._markets.get(market_id)
            if market is None or change.get("img"):
                market = _Market()
                self._markets[market_id] = market
            if isinstance(change.get("marketDefinition"), dict):
                market.definition = change["marketDefinition"]
            if "tv" in change:
                market.tv = change["tv"]
            for runner_change in change.get("rc") or ():
                key = (runner_change.get("id"), runner_change.get("hc"))
                runner = market.runners.get(key)
                if runner is None:
                    runner = _Runner(*key)
                    market.runners[key] = runner
                runner.apply(runner_change)
        self.position += 1

    def images(self, market_ids: set[str]) -> list[dict[str, Any]]:
        return [
            market.image(market_id)
            for market_id, market in self._markets.items()
            if market_id in market_ids
        ]
