"""The aiohttp control server. Handlers only read the `EngineView` (and the metrics registry);
the one write, POST /kill, needs the bearer token named by `[api].kill_token_env`.

Routes: GET /metrics (Prometheus text), GET /health (200 ready / 503 not ready, JSON), GET /matches,
GET /matches/{id} (404 when not followed), GET or POST /whatif (query string or JSON body; 400 with
the offending field), POST /kill (401 without a bearer token, 403 with a wrong one or when no token
is configured).
"""

from __future__ import annotations

import hmac
import os
from typing import Any

import orjson
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from engine.api.config import ApiConfig
from engine.api.view import EngineView
from engine.api.whatif import run_whatif
from engine.logs import get_logger
from engine.metrics import EngineMetrics

_log = get_logger("api")
VIEW_KEY: web.AppKey[EngineView] = web.AppKey("view", EngineView)
METRICS_KEY: web.AppKey[EngineMetrics] = web.AppKey("metrics", EngineMetrics)
TOKEN_KEY: web.AppKey[bytes | None] = web.AppKey("kill_token", bytes)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY),
        status=status,
        content_type="application/json",
    )


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _health(request: web.Request) -> web.Response:
    health = request.app[VIEW_KEY].health()
    return _json(health.as_dict(), 200 if health.ready else 503)


async def _matches(request: web.Request) -> web.Response:
    return _json({"matches": request.app[VIEW_KEY].matches()})


async def _match(request: web.Request) -> web.Response:
    match_id = request.match_info["match_id"]
    found = request.app[VIEW_KEY].match(match_id)
    if found is None:
        return _error(404, f"match_id: {match_id!r} is not followed")
    return _json(found)


async def _params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("body: not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body: expected a JSON object")
    return body


async def _whatif(request: web.Request) -> web.Response:
    view = request.app[VIEW_KEY]
    try:
        params = await _params(request)
        match_id = params.get("match_id")
        current = None
        if match_id is not None:
            if not isinstance(match_id, str):
                raise ValueError(f"match_id: expected a string, got {match_id!r}")
            current = view.pricing_inputs(match_id)
            if current is None:
                return _error(404, f"match_id: {match_id!r} is not followed or not priced")
        return _json(run_whatif(params, current))
    except ValueError as exc:
        return _error(400, str(exc))


async def _kill(request: web.Request) -> web.Response:
    token = request.app[TOKEN_KEY]
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return web.Response(
            status=401,
            body=orjson.dumps({"error": "authorization: a bearer token is required"}),
            content_type="application/json",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if token is None:
        _log.warning("kill_refused", why="no kill token configured")
        return _error(403, "authorization: the kill endpoint has no token configured")
    if not hmac.compare_digest(presented.strip().encode(), token):
        _log.warning("kill_refused", why="wrong token", peer=request.remote)
        return _error(403, "authorization: wrong token")
    try:
        params = await _params(request)
    except ValueError as exc:
        return _error(400, str(exc))
    reason = str(params.get("reason") or "api")
    request.app[VIEW_KEY].kill(reason)
    _log.warning("kill_switch_engaged", source="api", reason=reason, peer=request.remote)
    return _json({"killed": True, "reason": reason})


def build_app(view: EngineView, metrics: EngineMetrics, config: ApiConfig) -> web.Application:
    """The application; the kill token is read from the environment once, here."""
    app = web.Application()
    app[VIEW_KEY] = view
    app[METRICS_KEY] = metrics
    secret = os.environ.get(config.kill_token_env, "")
    app[TOKEN_KEY] = secret.encode() if secret else None
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/health", _health)
    app.router.add_get("/matches", _matches)
    app.router.add_get("/matches/{match_id}", _match)
    app.router.add_get("/whatif", _whatif)
    app.router.add_post("/whatif", _whatif)
    app.router.add_post("/kill", _kill)
    return app


class ApiServer:
    """A started server; `port` is the bound port (useful with port 0)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self.host = host
        self.port = port

    async def close(self) -> None:
        await self._runner.cleanup()


async def start_api(view: EngineView, metrics: EngineMetrics, config: ApiConfig) -> ApiServer:
    """Bind and start serving on the running event loop."""
    runner = web.AppRunner(build_app(view, metrics, config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    address = runner.addresses[0]
    _log.info("api_listening", host=config.host, port=address[1])
    return ApiServer(runner, config.host, int(address[1]))
