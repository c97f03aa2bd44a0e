"""Identity endpoints of the loopback exchange (login, certlogin, keepAlive, logout).

They answer in Betfair's JSON shapes so that betfairlightweight's own login code can be pointed at
the loopback server (set the client's identity URLs to ``http://127.0.0.1:PORT/api/``). Session
tokens issued here are the ones the stream side accepts.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from engine.logs import get_logger

log = get_logger("betfair.loopback.identity")


@dataclass(slots=True)
class SessionRegistry:
    """Accepted credentials and the live session tokens (token -> expiry, monotonic seconds)."""

    app_key: str
    username: str
    password: str
    session_ttl_s: float = 12 * 3600.0
    tokens: dict[str, float] = field(default_factory=dict)
    logins: int = 0
    keep_alives: int = 0

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.session_ttl_s
        self.logins += 1
        return token

    def add(self, token: str) -> None:
        """Accept a token chosen by the operator (tests, demo mode without login)."""
        self.tokens[token] = time.monotonic() + self.session_ttl_s

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        expiry = self.tokens.get(token)
        if expiry is None:
            return False
        if expiry < time.monotonic():
            del self.tokens[token]
            return False
        return True

    def extend(self, token: str | None) -> bool:
        if not self.valid(token):
            return False
        assert token is not None
        self.tokens[token] = time.monotonic() + self.session_ttl_s
        self.keep_alives += 1
        return True

    def revoke(self, token: str | None) -> None:
        if token:
            self.tokens.pop(token, None)

    def credentials_ok(self, username: str | None, password: str | None) -> bool:
        return secrets.compare_digest(username or "", self.username) and secrets.compare_digest(
            password or "", self.password
        )


def _app_key_error(registry: SessionRegistry, request: web.Request) -> str | None:
    app_key = request.headers.get("X-Application")
    if not app_key:
        return "NO_APP_KEY"
    if not secrets.compare_digest(app_key, registry.app_key):
        return "INVALID_APP_KEY"
    return None


def identity_routes(registry: SessionRegistry) -> list[web.RouteDef]:
    """aiohttp routes under /api/ answering like identitysso(-cert).betfair.com."""

    async def certlogin(request: web.Request) -> web.Response:
        form = await request.post()
        error = _app_key_error(registry, request)
        if error is None and not registry.credentials_ok(
            str(form.get("username", "")), str(form.get("password", ""))
        ):
            error = "INVALID_USERNAME_OR_PASSWORD"
        if error is not None:
            return web.json_response({"loginStatus": error})
        return web.json_response({"sessionToken": registry.issue(), "loginStatus": "SUCCESS"})

    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        error = _app_key_error(registry, request)
        if error is None and not registry.credentials_ok(
            str(form.get("username", "")), str(form.get("password", ""))
        ):
            error = "INVALID_USERNAME_OR_PASSWORD"
        if error is not None:
            return web.json_response({"token": "", "product": "", "status": "FAIL", "error": error})
        product = request.headers.get("X-Application", "")
        return web.json_response(
            {"token": registry.issue(), "product": product, "status": "SUCCESS", "error": ""}
        )

    async def keep_alive(request: web.Request) -> web.Response:
        token = request.headers.get("X-Authentication")
        product = request.headers.get("X-Application", "")
        error = _app_key_error(registry, request)
        if error is None and not registry.extend(token):
            error = "NO_SESSION"
        if error is not None:
            return web.json_response(
                {"token": token or "", "product": product, "status": "FAIL", "error": error}
            )
        return web.json_response(
            {"token": token, "product": product, "status": "SUCCESS", "error": ""}
        )

    async def logout(request: web.Request) -> web.Response:
        token = request.headers.get("X-Authentication")
        product = request.headers.get("X-Application", "")
        if not registry.valid(token):
            return web.json_response(
                {"token": "", "product": product, "status": "FAIL", "error": "NO_SESSION"}
            )
        registry.revoke(token)
        return web.json_response(
            {"token": "", "product": product, "status": "SUCCESS", "error": ""}
        )

    return [
        web.post("/api/certlogin", certlogin),
        web.post("/api/login", login),
        web.post("/api/keepAlive", keep_alive),
        web.post("/api/logout", logout),
    ]
