"""The cached state of one Betfair market: `MarketBook` with one `RunnerBook` per selection.

These are the read API for the rest of the engine (strategies, the simulated exchange, the market
simulator). They are mutated in place by `engine.market.cache.MarketCache` as stream deltas
arrive, so a reader that needs a frozen view copies what it needs (e.g. ``runner.back_levels(3)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.market.ladder import PositionLadder, PriceLadder, PriceSize

RunnerKey = tuple[int, float]
"""(selection id, handicap): Betfair identifies a runner by both (0 outside line markets)."""


class RunnerBook:
    """One selection's book: full-depth ladders, best-offer views, traded volume and definition.

    Ladders keep the Exchange Stream field names because they are distinct Betfair views:
    `atb`/`atl` full-depth available to back/lay (price-keyed), `batb`/`batl` best available and
    `bdatb`/`bdatl` best display (virtual) available (position-keyed), `trd` cumulative traded
    volume per price, `spb`/`spl` starting-price back/lay.
    """

    __slots__ = (
        "adjustment_factor",
        "atb",
        "atl",
        "batb",
        "batl",
        "bdatb",
        "bdatl",
        "bsp",
        "handicap",
        "ltp",
        "name",
        "removal_date",
        "selection_id",
        "sort_priority",
        "spb",
        "spf",
        "spl",
        "spn",
        "status",
        "trd",
        "tv",
    )

    def __init__(self, selection_id: int, handicap: float = 0.0) -> None:
        self.selection_id = selection_id
        self.handicap = handicap
        # From the market definition (None until a definition lists the runner).
        self.status: str | None = None
        self.adjustment_factor: float | None = None
        self.removal_date: str | None = None
        self.bsp: float | None = None
        self.sort_priority: int | None = None
        self.name: str | None = None
        # From runner changes.
        self.ltp: float | None = None
        self.tv: float = 0.0
        self.spn: float | None = None
        self.spf: float | None = None
        self.atb = PriceLadder(descending=True)
        self.atl = PriceLadder(descending=False)
        self.trd = PriceLadder(descending=False)
        self.batb = PositionLadder()
        self.batl = PositionLadder()
        self.bdatb = PositionLadder()
        self.bdatl = PositionLadder()
        self.spb = PriceLadder(descending=True)
        self.spl = PriceLadder(descending=False)

    @property
    def key(self) -> RunnerKey:
        """(selection id, handicap)."""
        return (self.selection_id, self.handicap)

    def back_levels(self, depth: int = 3) -> list[PriceSize]:
        """Best available-to-back levels, highest price first.

        Full-depth `atb` when the stream carries it, else best-display `bdatb`, else `batb` — the
        same precedence betfairlightweight uses for ``ex.availableToBack``.
        """
        levels = self.atb.top(depth)
        if levels or depth <= 0:
            return levels
        if self.bdatb:
            return self.bdatb.top(depth)
        return self.batb.top(depth)

    def lay_levels(self, depth: int = 3) -> list[PriceSize]:
        """Best available-to-lay levels, lowest price first (same precedence as back_levels)."""
        levels = self.atl.top(depth)
        if levels or depth <= 0:
            return levels
        if self.bdatl:
            return self.bdatl.top(depth)
        return self.batl.top(depth)

    def best_back(self) -> PriceSize | None:
        """Best (price, size) to back, None when nothing is offered."""
        levels = self.back_levels(1)
        return levels[0] if levels else None

    def best_lay(self) -> PriceSize | None:
        """Best (price, size) to lay, None when nothing is offered."""
        levels = self.lay_levels(1)
        return levels[0] if levels else None

    def traded_total(self) -> float:
        """Sum of `trd` volume rounded to pence (what historical PRO files imply for runner tv)."""
        return round(self.trd.total_size(), 2)

    def apply_definition(self, definition: dict[str, Any]) -> None:
        """Take status, removal and BSP fields from a market-definition runner entry."""
        self.status = definition.get("status")
        self.adjustment_factor = definition.get("adjustmentFactor")
        self.removal_date = definition.get("removalDate")
        self.bsp = definition.get("bsp")
        self.sort_priority = definition.get("sortPriority")
        self.name = definition.get("name")

    def __repr__(self) -> str:
        return (
            f"RunnerBook({self.selection_id}, status={self.status}, ltp={self.ltp}, "
            f"back={self.back_levels(1)}, lay={self.lay_levels(1)})"
        )


class MarketBook:
    """One market: definition fields, total matched and its runners in first-seen order."""

    __slots__ = (
        "bet_delay",
        "complete",
        "cross_matching",
        "definition",
        "event_id",
        "event_type_id",
        "inplay",
        "market_base_rate",
        "market_id",
        "market_time",
        "market_type",
        "number_of_active_runners",
        "number_of_winners",
        "publish_time",
        "runner_index",
        "runners",
        "status",
        "tv",
        "version",
    )

    def __init__(self, market_id: str, publish_time: int = 0) -> None:
        self.market_id = market_id
        self.publish_time = publish_time
        self.definition: dict[str, Any] | None = None
        self.status: str | None = None
        self.inplay: bool | None = None
        self.bet_delay: int | None = None
        self.market_base_rate: float | None = None
        self.version: int | None = None
        self.complete: bool | None = None
        self.cross_matching: bool | None = None
        self.number_of_winners: int | None = None
        self.number_of_active_runners: int | None = None
        self.market_type: str | None = None
        self.event_id: str | None = None
        self.event_type_id: str | None = None
        self.market_time: str | None = None
        self.tv: float = 0.0
        self.runners: dict[RunnerKey, RunnerBook] = {}
        # selection id -> (key, runner) for handicap-0 runners: the cache's hot-path look-up
        # (no key tuple to build and hash per runner change). Filled by MarketCache only.
        self.runner_index: dict[int, tuple[RunnerKey, RunnerBook]] = {}

    def runner(self, selection_id: int, handicap: float = 0.0) -> RunnerBook | None:
        """The runner with this selection id (and handicap), None when unknown."""
        return self.runners.get((selection_id, handicap))

    def __iter__(self) -> Iterator[RunnerBook]:
        return iter(self.runners.values())

    def __len__(self) -> int:
        return len(self.runners)

    @property
    def closed(self) -> bool:
        """True once the definition says CLOSED."""
        return self.status == "CLOSED"

    @property
    def open(self) -> bool:
        """True while the market accepts bets (status OPEN)."""
        return self.status == "OPEN"

    def traded_total(self) -> float:
        """Sum of every runner's traded volume, rounded to pence (runners in first-seen order)."""
        total = 0.0
        for runner in self.runners.values():
            for size in runner.trd.ascending_sizes():
                total += size
        return round(total, 2)

    def apply_definition(self, definition: dict[str, Any]) -> None:
        """Take the market-level fields of a marketDefinition (runners are handled by the cache)."""
        self.definition = definition
        get = definition.get
        self.status = get("status")
        self.inplay = get("inPlay")
        self.bet_delay = get("betDelay")
        self.market_base_rate = get("marketBaseRate")
        self.version = get("version")
        self.complete = get("complete")
        self.cross_matching = get("crossMatching")
        self.number_of_winners = get("numberOfWinners")
        self.number_of_active_runners = get("numberOfActiveRunners")
        self.market_type = get("marketType")
        self.event_id = get("eventId")
        self.event_type_id = get("eventTypeId")
        self.market_time = get("marketTime")

    def __repr__(self) -> str:
        return (
            f"MarketBook({self.market_id}, status={self.status}, inplay={self.inplay}, "
            f"runners={len(self.runners)}, pt={self.publish_time})"
        )
