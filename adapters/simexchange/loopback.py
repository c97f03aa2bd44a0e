"""Plug the simulator into the loopback exchange server: betting endpoints and order stream.

- `betting_registrar(sim)` is a route registrar for `adapters.betfair.loopback.server`
  (``registrar(app, loopback)``): requests must carry the loopback's app key and one of its live
  session tokens, as Betfair requires; after every call, the order changes it caused are published
  on the loopback's order stream.
- Pass ``order_image=sim.order_stream_image`` to `LoopbackExchange` so a new order subscription
  starts from the simulator's current orders, and call `publish_order_changes(sim, loopback)` after
  feeding market updates (fills from trades) to the simulator.
So the daemon logs in, bets and follows its orders exactly as it would live.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from adapters.simexchange.exchange import SimExchange
from adapters.simexchange.routes import register_betting_routes


class Sessions(Protocol):
    app_key: str

    def valid(self, token: str | None) -> bool: ...


class OrderPublisher(Protocol):
    def publish_order_changes(self, changes: list[dict[str, Any]], pt: int) -> None: ...


class Loopback(Protocol):
    @property
    def sessions(self) -> Sessions: ...

    @property
    def stream(self) -> OrderPublisher: ...


def session_authorizer(sessions: Sessions) -> Callable[[web.Request], str | None]:
    """APINGException code for a request without the right app key or a live session."""

    def authorize(request: web.Request) -> str | None:
        app_key = request.headers.get("X-Application")
        if not app_key:
            return "NO_APP_KEY"
        if not hmac.compare_digest(app_key, sessions.app_key):
            return "INVALID_APP_KEY"
        token = request.headers.get("X-Authentication")
        if not token:
            return "NO_SESSION"
        if not sessions.valid(token):
            return "INVALID_SESSION_INFORMATION"
        return None

    return authorize


def publish_order_changes(sim: SimExchange, loopback: Loopback) -> int:
    """Publish the simulator's pending order changes on the order stream; returns how many."""
    changes = sim.drain_order_stream_changes()
    if changes:
        loopback.stream.publish_order_changes(changes, sim.now())
    return len(changes)


def betting_registrar(sim: SimExchange) -> Callable[[web.Application, Loopback], None]:
    """A loopback route registrar serving Betfair's betting API from `sim`."""

    def register(app: web.Application, loopback: Loopback) -> None:
        register_betting_routes(
            app,
            sim,
            authorize=session_authorizer(loopback.sessions),
            after_request=lambda: publish_order_changes(sim, loopback),
        )

    return register
