"""The loopback exchange: stream socket + HTTP (identity, and whatever other routes are plugged in).

Used by demo mode, paper trading and the tests. The HTTP side is a plain aiohttp Application;
other components add their endpoints through route registrars — callables
``registrar(app: aiohttp.web.Application, exchange: LoopbackExchange) -> None`` — before the server
starts (the simulated exchange's betting JSON-RPC routes, a market catalogue …).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.betfair.loopback.faults import FaultPlan
from adapters.betfair.loopback.identity import SessionRegistry, identity_routes
from adapters.betfair.loopback.recording import Recording
from adapters.betfair.loopback.stream_server import StreamServer, StreamServerSettings
from adapters.betfair.loopback.tls import GeneratedCertificate, generate_self_signed
from engine.logs import get_logger

log = get_logger("betfair.loopback")

RouteRegistrar = Callable[[web.Application, "LoopbackExchange"], None]


@dataclass(frozen=True, slots=True)
class LoopbackConfig:
    host: str = "127.0.0.1"
    port: int = 0  # stream socket; 0 picks a free port
    http_port: int | None = 0  # identity/betting HTTP; None disables the HTTP side
    tls: bool = False  # TLS on both sides with a certificate generated at start
    app_key: str = "loopback-app-key"
    username: str = "loopback"
    password: str = "loopback"
    session_ttl_s: float = 12 * 3600.0
    stream: StreamServerSettings = field(default_factory=StreamServerSettings)


class LoopbackExchange:
    """Start with `await exchange.start()`; `port`, `http_port` and `ca_file` are then known."""

    def __init__(
        self,
        recording: Recording,
        config: LoopbackConfig | None = None,
        *,
        faults: FaultPlan | None = None,
        route_registrars: Sequence[RouteRegistrar] = (),
        order_image: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.config = config or LoopbackConfig()
        self.recording = recording
        self.sessions = SessionRegistry(
            self.config.app_key,
            self.config.username,
            self.config.password,
            self.config.session_ttl_s,
        )
        self.stream = StreamServer(
            recording, self.sessions, self.config.stream, faults, order_image=order_image
        )
        self.app = web.Application()
        self.app.add_routes(identity_routes(self.sessions))
        for registrar in route_registrars:
            registrar(self.app, self)
        self.port = 0
        self.http_port: int | None = None
        self.certificate: GeneratedCertificate | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._server: asyncio.Server | None = None
        self._runner: web.AppRunner | None = None

    @property
    def faults(self) -> FaultPlan:
        return self.stream.faults

    @property
    def ca_file(self) -> str:
        """The generated certificate (the only trust anchor a client needs), '' without TLS."""
        return str(self.certificate.cert_file) if self.certificate else ""

    @property
    def identity_url(self) -> str:
        scheme = "https" if self.config.tls else "http"
        return f"{scheme}://{self.config.host}:{self.http_port}/api/"

    def add_routes(self, registrar: RouteRegistrar) -> None:
        """Plug in more HTTP endpoints (only before `start`)."""
        registrar(self.app, self)

    def issue_session(self) -> str:
        """A valid session token without going through HTTP login (tests, demo mode)."""
        return self.sessions.issue()

    async def start(self) -> None:
        context: ssl.SSLContext | None = None
        if self.config.tls:
            self._tempdir = tempfile.TemporaryDirectory(prefix="courtside-loopback-")
            self.certificate = generate_self_signed(Path(self._tempdir.name))
            context = self.certificate.server_context()
        self._server = await asyncio.start_server(
            self.stream.handle, self.config.host, self.config.port, ssl=context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.config.http_port is not None:
            self._runner = web.AppRunner(self.app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(
                self._runner, self.config.host, self.config.http_port, ssl_context=context
            )
            await site.start()
            self.http_port = int(self._runner.addresses[0][1])
        log.info(
            "loopback_started",
            port=self.port,
            http_port=self.http_port,
            tls=self.config.tls,
            messages=len(self.recording),
            markets=len(self.recording.markets),
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self.stream.close_all()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2.0)
            self._server = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    async def __aenter__(self) -> LoopbackExchange:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
