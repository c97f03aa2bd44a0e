"""Simulated Betfair exchange: matching engine, account, settlement and betting endpoints.

Paper trading, the demo and replay share it (DESIGN.md §7). Public API:
- `SimExchange` — the matching engine; feed it `engine.market.MarketUpdate`s from a
  `MarketCache(record_level_changes=True)`; clock injected, seeded randomness.
- `SimExchangeConfig` — engine.toml [simexchange].
- `register_betting_routes(app, exchange)` — Betfair's betting JSON-RPC/REST on aiohttp.
- `InProcessTransport` — the betting adapter's transport straight into the simulator.
"""

from adapters.simexchange.config import SimExchangeConfig
from adapters.simexchange.exchange import SimApiError, SimExchange
from adapters.simexchange.routes import register_betting_routes
from adapters.simexchange.transport import InProcessTransport

__all__ = [
    "InProcessTransport",
    "SimApiError",
    "SimExchange",
    "SimExchangeConfig",
    "register_betting_routes",
]
