"""Betfair betting endpoints for the simulated exchange on an aiohttp application.

`register_betting_routes(app, exchange)` adds, under Betfair's paths:
- POST /exchange/betting/json-rpc/v1 — JSON-RPC 2.0 (single or batch), method
  `SportsAPING/v1.0/<operation>`, as betfairlightweight sends it;
- POST /exchange/betting/rest/v1.0/<operation>/ — the REST form: params as the body, the result
  as the answer, APINGException faults with HTTP 400.
So the daemon's live betting code runs unchanged against the loopback exchange server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from adapters.simexchange.exchange import SimApiError, SimExchange
from adapters.simexchange.transport import operation_handler

JSON_RPC_PATH = "/exchange/betting/json-rpc/v1"
REST_PATH = "/exchange/betting/rest/v1.0/{operation}/"
METHOD_PREFIX = "SportsAPING/v1.0/"

Authorizer = Callable[[web.Request], str | None]


def headers_present(request: web.Request) -> str | None:
    """Default check: Betfair's two headers must be there (an APINGException code otherwise)."""
    if not request.headers.get("X-Application"):
        return "NO_APP_KEY"
    if not request.headers.get("X-Authentication"):
        return "NO_SESSION"
    return None


def _api_exception(code: str) -> dict[str, Any]:
    return {
        "APINGException": {"errorCode": code, "errorDetails": "", "requestUUID": "sim"},
        "exceptionname": "APINGException",
    }


def _rpc_error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": request_id}


def _dispatch(exchange: SimExchange, operation: str, params: Any) -> dict[str, Any]:
    handler = operation_handler(exchange, operation)
    if handler is None:
        raise LookupError(operation)
    if not isinstance(params, dict):
        raise SimApiError("INVALID_INPUT_DATA", "params must be an object")
    return handler(params)


def _rpc_one(exchange: SimExchange, call: Any, auth_error: str | None) -> dict[str, Any]:
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return _rpc_error(None, -32600, "Invalid Request")
    request_id = call.get("id")
    if auth_error is not None:
        return _rpc_error(request_id, -32099, "ANGX-0003", _api_exception(auth_error))
    method: str = call["method"]
    if not method.startswith(METHOD_PREFIX):
        return _rpc_error(request_id, -32601, "Method not found")
    try:
        result = _dispatch(exchange, method[len(METHOD_PREFIX) :], call.get("params", {}))
    except LookupError:
        return _rpc_error(request_id, -32601, "Method not found")
    except SimApiError as exc:
        return _rpc_error(request_id, -32099, "ANGX-0001", _api_exception(exc.error_code))
    return {"jsonrpc": "2.0", "result": result, "id": request_id}


def register_betting_routes(
    app: web.Application,
    exchange: SimExchange,
    *,
    authorize: Authorizer = headers_present,
    after_request: Callable[[], object] | None = None,
) -> None:
    """Add the JSON-RPC and REST betting endpoints backed by `exchange` to `app`.

    `after_request` runs after every answered call (the loopback uses it to publish the order
    changes the call caused on its order stream).
    """

    async def json_rpc(request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.json_response(_rpc_error(None, -32700, "Parse error"), dumps=_dumps)
        auth_error = authorize(request)
        if isinstance(body, list):
            answer: Any = [_rpc_one(exchange, call, auth_error) for call in body]
        else:
            answer = _rpc_one(exchange, body, auth_error)
        if after_request is not None:
            after_request()
        return web.json_response(answer, dumps=_dumps)

    async def rest(request: web.Request) -> web.Response:
        operation = request.match_info["operation"]
        auth_error = authorize(request)
        if auth_error is not None:
            return _rest_fault(auth_error, 400)
        try:
            params = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            return _rest_fault("INVALID_INPUT_DATA", 400)
        try:
            result = _dispatch(exchange, operation, params)
        except LookupError:
            return _rest_fault("INVALID_INPUT_DATA", 404)
        except SimApiError as exc:
            return _rest_fault(exc.error_code, 400)
        if after_request is not None:
            after_request()
        return web.json_response(result, dumps=_dumps)

    app.router.add_post(JSON_RPC_PATH, json_rpc)
    app.router.add_post(REST_PATH, rest)


def _rest_fault(code: str, status: int) -> web.Response:
    body = {"faultcode": "Client", "faultstring": "ANGX-0001", "detail": _api_exception(code)}
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
