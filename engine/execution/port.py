"""The exchange port: the only way the engine reaches an exchange (live Betfair or the simulator).

The engine depends on this protocol, never on an adapter (DESIGN.md §2), so the code path between
decision and exchange is the same in live, paper and replay modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.execution.types import (
    CancelReport,
    ClearedOrder,
    CurrentOrder,
    OrderRequest,
    PlaceReport,
    ReplaceReport,
)


class ExchangePort(Protocol):
    """place / cancel / replace / list, as Betfair's betting API offers them."""

    async def place_orders(
        self, market_id: str, orders: Sequence[OrderRequest], customer_ref: str | None = None
    ) -> list[PlaceReport]:
        """One report per order, in order; transport failures come back as Outcome.UNKNOWN."""
        ...

    async def cancel_orders(
        self, market_id: str, bet_ids: Sequence[str], customer_ref: str | None = None
    ) -> list[CancelReport]:
        """Cancel the unmatched remainder of each bet."""
        ...

    async def replace_orders(
        self, market_id: str, changes: Sequence[tuple[str, float]], customer_ref: str | None = None
    ) -> list[ReplaceReport]:
        """(bet_id, new_price) pairs: cancel the remainder and place it again at the new price."""
        ...

    async def list_current_orders(
        self,
        market_ids: Sequence[str] | None = None,
        customer_order_refs: Sequence[str] | None = None,
    ) -> list[CurrentOrder]:
        """Orders the exchange holds (executable and recently completed); raises on failure."""
        ...

    async def list_cleared_orders(
        self, market_ids: Sequence[str] | None = None
    ) -> list[ClearedOrder]:
        """Settled bets; raises on failure."""
        ...


class ExchangeUnavailableError(Exception):
    """A list call could not be answered (transport or API error): the caller must not guess."""
