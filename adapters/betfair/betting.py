"""Betfair betting API (JSON-RPC) behind the engine's ExchangePort.

Requests are built with betfairlightweight: its `filters` make the instructions and
`BaseEndpoint.create_req` the JSON-RPC envelope with the `SportsAPING/v1.0/<operation>` method, so
the wire format is the one the library (our oracle) sends. Transport is our own: an asyncio aiohttp
POST to `<api>/betting/json-rpc/v1` (no blocking requests call on the event loop), or an in-process
call into the simulated exchange for replay — the parsing and error mapping are the same code.

Error mapping (every exchange answer becomes DONE, REJECTED or UNKNOWN plus a FailureKind):
- INSUFFICIENT_FUNDS, MARKET_SUSPENDED, MARKET_NOT_OPEN_FOR_BETTING/INVALID_MARKET_ID (closed),
  BET_ACTION_ERROR (instruction-level code decides: invalid odds/size/runner → INVALID_ORDER;
  taken/lapsed/in progress/unknown bet → BET_ACTION_ERROR), auth and throttling APINGExceptions:
  REJECTED — the exchange certainly did not act.
- A timeout, a dropped connection after sending, an instruction TIMEOUT, ERROR_IN_MATCHER,
  DUPLICATE_TRANSACTION (an earlier request with our customerRef was processed), a 5xx or an
  unreadable body: UNKNOWN — the order manager looks the ref up before doing anything else.
- A connection that could not be opened at all: REJECTED (nothing left the process).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import aiohttp
import orjson
from betfairlightweight import filters
from betfairlightweight.endpoints.baseendpoint import BaseEndpoint
from betfairlightweight.endpoints.betting import Betting

from engine.execution.port import ExchangeUnavailableError
from engine.execution.types import (
    CancelReport,
    ClearedOrder,
    CurrentOrder,
    ExchangeOrderStatus,
    FailureKind,
    OrderRequest,
    Outcome,
    Persistence,
    PlaceReport,
    ReplaceReport,
    Side,
)
from engine.logs import get_logger

log = get_logger("betfair.betting")

METHOD_PREFIX: str = Betting.URI
JSON_RPC_PATH = "betting/json-rpc/v1"
PAGE_SIZE = 1000

_REJECTED_CODES: dict[str, FailureKind] = {
    "INSUFFICIENT_FUNDS": FailureKind.INSUFFICIENT_FUNDS,
    "MARKET_SUSPENDED": FailureKind.MARKET_SUSPENDED,
    "MARKET_NOT_OPEN_FOR_BETTING": FailureKind.MARKET_CLOSED,
    "INVALID_MARKET_ID": FailureKind.MARKET_CLOSED,
    "RUNNER_REMOVED": FailureKind.MARKET_CLOSED,
    "INVALID_ODDS": FailureKind.INVALID_ORDER,
    "INVALID_BET_SIZE": FailureKind.INVALID_ORDER,
    "INVALID_RUNNER": FailureKind.INVALID_ORDER,
    "INVALID_BID_TYPE": FailureKind.INVALID_ORDER,
    "INVALID_PERSISTENCE_TYPE": FailureKind.INVALID_ORDER,
    "INVALID_BACK_LAY_COMBINATION": FailureKind.INVALID_ORDER,
    "INVALID_ORDER": FailureKind.INVALID_ORDER,
    "INVALID_INPUT_DATA": FailureKind.INVALID_ORDER,
    "INVALID_PRICE_EDIT": FailureKind.INVALID_ORDER,
    "TOO_MANY_INSTRUCTIONS": FailureKind.INVALID_ORDER,
    "INVALID_MARKET_VERSION": FailureKind.INVALID_ORDER,
    "BET_TAKEN_OR_LAPSED": FailureKind.BET_ACTION_ERROR,
    "BET_IN_PROGRESS": FailureKind.BET_ACTION_ERROR,
    "INVALID_BET_ID": FailureKind.BET_ACTION_ERROR,
    "CANCELLED_NOT_PLACED": FailureKind.BET_ACTION_ERROR,
    "RELATED_ACTION_FAILED": FailureKind.BET_ACTION_ERROR,
    "NO_ACTION_REQUIRED": FailureKind.BET_ACTION_ERROR,
    "BET_ACTION_ERROR": FailureKind.BET_ACTION_ERROR,
    "LOSS_LIMIT_EXCEEDED": FailureKind.INSUFFICIENT_FUNDS,
    "INVALID_ACCOUNT_STATE": FailureKind.AUTH,
    "INVALID_WALLET_STATUS": FailureKind.AUTH,
    "PERMISSION_DENIED": FailureKind.AUTH,
    "INVALID_SESSION_INFORMATION": FailureKind.AUTH,
    "NO_SESSION": FailureKind.AUTH,
    "NO_APP_KEY": FailureKind.AUTH,
    "INVALID_APP_KEY": FailureKind.AUTH,
    "ACCESS_DENIED": FailureKind.AUTH,
    "TOO_MANY_REQUESTS": FailureKind.THROTTLED,
    "SERVICE_UNAVAILABLE": FailureKind.OTHER,
    "REJECTED_BY_REGULATOR": FailureKind.OTHER,
    "NO_CHASING": FailureKind.OTHER,
    "REGULATOR_IS_NOT_AVAILABLE": FailureKind.OTHER,
    "INVALID_PROFIT_RATIO": FailureKind.INVALID_ORDER,
}

_UNKNOWN_CODES: dict[str, FailureKind] = {
    "ERROR_IN_MATCHER": FailureKind.OTHER,
    "DUPLICATE_TRANSACTION": FailureKind.DUPLICATE,
    "TIMEOUT_ERROR": FailureKind.TIMEOUT,
    "UNEXPECTED_ERROR": FailureKind.OTHER,
    "SERVICE_BUSY": FailureKind.OTHER,
}


def classify(code: str) -> tuple[Outcome, FailureKind]:
    """A Betfair error code as (outcome, failure kind); unknown codes are UNKNOWN (safe side)."""
    if code in _REJECTED_CODES:
        return Outcome.REJECTED, _REJECTED_CODES[code]
    return Outcome.UNKNOWN, _UNKNOWN_CODES.get(code, FailureKind.OTHER)


class BettingCallError(Exception):
    """A whole call failed: carries the outcome it implies for orders in the request."""

    def __init__(self, outcome: Outcome, failure: FailureKind, code: str) -> None:
        super().__init__(f"{failure.value}: {code}")
        self.outcome = outcome
        self.failure = failure
        self.code = code


class Transport(Protocol):
    """Sends one betting operation; returns the JSON-RPC `result` or raises BettingCallError."""

    async def call(self, operation: str, params: Mapping[str, Any]) -> Any: ...


def _api_exception_code(error: Any) -> str:
    if isinstance(error, dict):
        data = error.get("data")
        if isinstance(data, dict):
            for value in data.values():
                if isinstance(value, dict) and "errorCode" in value:
                    return str(value["errorCode"])
        return str(error.get("message") or error.get("code") or "UNEXPECTED_ERROR")
    return "UNEXPECTED_ERROR"


def raise_for_api_error(body: Any) -> Any:
    """The `result` of a JSON-RPC answer, or BettingCallError for its `error`."""
    if not isinstance(body, dict):
        raise BettingCallError(Outcome.UNKNOWN, FailureKind.OTHER, "UNREADABLE_RESPONSE")
    if "error" in body and body["error"] is not None:
        code = _api_exception_code(body["error"])
        outcome, failure = classify(code)
        raise BettingCallError(outcome, failure, code)
    if "result" not in body:
        raise BettingCallError(Outcome.UNKNOWN, FailureKind.OTHER, "UNREADABLE_RESPONSE")
    return body["result"]


class HttpJsonRpcTransport:
    """aiohttp POST of betfairlightweight's JSON-RPC request to `<api_url>betting/json-rpc/v1`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        app_key: str,
        session_token: Callable[[], str],
        timeout_s: float = 5.0,
    ) -> None:
        self._session = session
        self._url = api_url.rstrip("/") + "/" + JSON_RPC_PATH
        self._app_key = app_key
        self._token = session_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def call(self, operation: str, params: Mapping[str, Any]) -> Any:
        payload = BaseEndpoint.create_req(METHOD_PREFIX + operation, dict(params))
        headers = {
            "X-Application": self._app_key,
            "X-Authentication": self._token(),
            "content-type": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        try:
            async with self._session.post(
                self._url, data=payload, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise BettingCallError(Outcome.UNKNOWN, FailureKind.TIMEOUT, "TIMEOUT") from exc
        except aiohttp.ClientConnectorError as exc:
            raise BettingCallError(
                Outcome.REJECTED, FailureKind.TRANSPORT, "CONNECT_FAILED"
            ) from exc
        except aiohttp.ClientError as exc:
            raise BettingCallError(
                Outcome.UNKNOWN, FailureKind.TRANSPORT, type(exc).__name__
            ) from exc
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        if status >= 500 and not (isinstance(body, dict) and "error" in body):
            raise BettingCallError(Outcome.UNKNOWN, FailureKind.TRANSPORT, f"HTTP_{status}")
        if status != 200 and not (isinstance(body, dict) and "error" in body):
            raise BettingCallError(Outcome.REJECTED, FailureKind.TRANSPORT, f"HTTP_{status}")
        return raise_for_api_error(body)


# -- wire -> engine types -------------------------------------------------------------------
def parse_ms(value: Any) -> int:
    """Betfair ISO-8601 timestamp to epoch ms (0 when absent or unreadable)."""
    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def _order_status(value: Any) -> ExchangeOrderStatus | None:
    try:
        return ExchangeOrderStatus(value)
    except ValueError:
        return None


def _instruction_failure(
    report_code: str, instruction_code: str
) -> tuple[Outcome, FailureKind, str]:
    """A market-level report code (suspended, funds…) decides; under BET_ACTION_ERROR the
    instruction's own code does (ERROR_IN_ORDER only says "see the report")."""
    if report_code and report_code not in ("BET_ACTION_ERROR", "PROCESSED_WITH_ERRORS"):
        outcome, kind = classify(report_code)
        return outcome, kind, report_code
    if instruction_code and instruction_code != "ERROR_IN_ORDER":
        code = instruction_code
    else:
        code = report_code or "UNKNOWN_ERROR"
    outcome, kind = classify(code)
    return outcome, kind, code


def parse_place_reports(result: Any, orders: Sequence[OrderRequest]) -> list[PlaceReport]:
    """One PlaceReport per requested order, from a PlaceExecutionReport."""
    if not isinstance(result, dict):
        return [
            PlaceReport(
                Outcome.UNKNOWN,
                o.customer_order_ref,
                failure=FailureKind.OTHER,
                error_code="UNREADABLE_RESPONSE",
            )
            for o in orders
        ]
    report_code = str(result.get("errorCode") or "")
    instruction_reports = result.get("instructionReports") or []
    reports: list[PlaceReport] = []
    for index, order in enumerate(orders):
        item = instruction_reports[index] if index < len(instruction_reports) else {}
        status = item.get("status") if isinstance(item, dict) else None
        ref = order.customer_order_ref
        if status == "SUCCESS":
            reports.append(
                PlaceReport(
                    Outcome.DONE,
                    ref,
                    bet_id=str(item.get("betId")) if item.get("betId") is not None else None,
                    status=_order_status(item.get("orderStatus")),
                    size_matched=float(item.get("sizeMatched") or 0.0),
                    average_price_matched=float(item.get("averagePriceMatched") or 0.0),
                )
            )
        elif status == "FAILURE":
            outcome, kind, code = _instruction_failure(
                report_code, str(item.get("errorCode") or "")
            )
            reports.append(PlaceReport(outcome, ref, failure=kind, error_code=code))
        elif status == "TIMEOUT":
            reports.append(
                PlaceReport(Outcome.UNKNOWN, ref, failure=FailureKind.TIMEOUT, error_code="TIMEOUT")
            )
        else:
            outcome, kind = (
                classify(report_code) if report_code else (Outcome.UNKNOWN, FailureKind.OTHER)
            )
            reports.append(
                PlaceReport(
                    outcome, ref, failure=kind, error_code=report_code or "NO_INSTRUCTION_REPORT"
                )
            )
    return reports


def _parse_cancel(item: Any, bet_id: str, report_code: str) -> CancelReport:
    if not isinstance(item, dict):
        return CancelReport(
            Outcome.UNKNOWN, bet_id, failure=FailureKind.OTHER, error_code="NO_INSTRUCTION_REPORT"
        )
    status = item.get("status")
    if status == "SUCCESS":
        return CancelReport(
            Outcome.DONE, bet_id, size_cancelled=float(item.get("sizeCancelled") or 0)
        )
    if status == "TIMEOUT":
        return CancelReport(
            Outcome.UNKNOWN, bet_id, failure=FailureKind.TIMEOUT, error_code="TIMEOUT"
        )
    outcome, kind, code = _instruction_failure(report_code, str(item.get("errorCode") or ""))
    return CancelReport(outcome, bet_id, failure=kind, error_code=code)


def parse_current_order(item: Mapping[str, Any]) -> CurrentOrder:
    """A CurrentOrderSummary; raises KeyError/ValueError/TypeError when malformed."""
    price_size = item.get("priceSize") or {}
    return CurrentOrder(
        bet_id=str(item["betId"]),
        market_id=str(item["marketId"]),
        selection_id=int(item["selectionId"]),
        side=Side(item["side"]),
        price=float(price_size["price"]),
        size=float(price_size["size"]),
        status=ExchangeOrderStatus(item["status"]),
        customer_order_ref=str(item.get("customerOrderRef") or ""),
        persistence=Persistence(item.get("persistenceType") or "LAPSE"),
        size_matched=float(item.get("sizeMatched") or 0.0),
        average_price_matched=float(item.get("averagePriceMatched") or 0.0),
        size_remaining=float(item.get("sizeRemaining") or 0.0),
        size_cancelled=float(item.get("sizeCancelled") or 0.0),
        size_lapsed=float(item.get("sizeLapsed") or 0.0),
        size_voided=float(item.get("sizeVoided") or 0.0),
        placed_ms=parse_ms(item.get("placedDate")),
    )


def parse_cleared_order(item: Mapping[str, Any]) -> ClearedOrder:
    """A ClearedOrderSummary; raises KeyError/ValueError/TypeError when malformed."""
    return ClearedOrder(
        bet_id=str(item["betId"]),
        market_id=str(item["marketId"]),
        selection_id=int(item["selectionId"]),
        side=Side(item["side"]),
        price_matched=float(item.get("priceMatched") or 0.0),
        size_settled=float(item.get("sizeSettled") or 0.0),
        profit=float(item.get("profit") or 0.0),
        customer_order_ref=str(item.get("customerOrderRef") or ""),
        settled_ms=parse_ms(item.get("settledDate")),
        bet_outcome=str(item.get("betOutcome") or ""),
    )


# -- the port -------------------------------------------------------------------------------
class BetfairBetting:
    """ExchangePort over a Transport (HTTP to Betfair or the loopback, or in-process sim)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.counters: dict[str, int] = {}

    def _count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    async def place_orders(
        self, market_id: str, orders: Sequence[OrderRequest], customer_ref: str | None = None
    ) -> list[PlaceReport]:
        instructions = [
            filters.place_instruction(
                order_type="LIMIT",
                selection_id=o.selection_id,
                side=o.side.value,
                handicap=o.handicap,
                limit_order=filters.limit_order(
                    price=o.price, size=o.size, persistence_type=o.persistence.value
                ),
                customer_order_ref=o.customer_order_ref or None,
            )
            for o in orders
        ]
        params: dict[str, Any] = {"marketId": market_id, "instructions": instructions}
        if customer_ref:
            params["customerRef"] = customer_ref[:32]
        strategy = orders[0].strategy_ref if orders else ""
        if strategy:
            params["customerStrategyRef"] = strategy[:15]
        try:
            result = await self._transport.call("placeOrders", params)
        except BettingCallError as exc:
            self._count(f"place_{exc.outcome.value.lower()}")
            log.warning(
                "place_failed", market_id=market_id, code=exc.code, outcome=exc.outcome.value
            )
            return [
                PlaceReport(
                    exc.outcome, o.customer_order_ref, failure=exc.failure, error_code=exc.code
                )
                for o in orders
            ]
        reports = parse_place_reports(result, orders)
        for report in reports:
            self._count(f"place_{report.outcome.value.lower()}")
            if report.outcome is not Outcome.DONE:
                log.warning(
                    "place_not_done",
                    ref=report.customer_order_ref,
                    outcome=report.outcome.value,
                    failure=report.failure.value,
                    code=report.error_code,
                )
        return reports

    async def cancel_orders(
        self, market_id: str, bet_ids: Sequence[str], customer_ref: str | None = None
    ) -> list[CancelReport]:
        instructions = [filters.cancel_instruction(bet_id=b) for b in bet_ids]
        params: dict[str, Any] = {"marketId": market_id, "instructions": instructions}
        if customer_ref:
            params["customerRef"] = customer_ref[:32]
        try:
            result = await self._transport.call("cancelOrders", params)
        except BettingCallError as exc:
            return [
                CancelReport(exc.outcome, b, failure=exc.failure, error_code=exc.code)
                for b in bet_ids
            ]
        if not isinstance(result, dict):
            return [
                CancelReport(
                    Outcome.UNKNOWN, b, failure=FailureKind.OTHER, error_code="UNREADABLE_RESPONSE"
                )
                for b in bet_ids
            ]
        items = result.get("instructionReports") or []
        code = str(result.get("errorCode") or "")
        return [
            _parse_cancel(items[i] if i < len(items) else None, bet_id, code)
            for i, bet_id in enumerate(bet_ids)
        ]

    async def replace_orders(
        self, market_id: str, changes: Sequence[tuple[str, float]], customer_ref: str | None = None
    ) -> list[ReplaceReport]:
        instructions = [filters.replace_instruction(bet_id=b, new_price=p) for b, p in changes]
        params: dict[str, Any] = {"marketId": market_id, "instructions": instructions}
        if customer_ref:
            params["customerRef"] = customer_ref[:32]
        try:
            result = await self._transport.call("replaceOrders", params)
        except BettingCallError as exc:
            return [
                ReplaceReport(
                    exc.outcome,
                    b,
                    CancelReport(exc.outcome, b, failure=exc.failure, error_code=exc.code),
                    None,
                    exc.failure,
                    exc.code,
                )
                for b, _ in changes
            ]
        items = result.get("instructionReports") or [] if isinstance(result, dict) else []
        code = str(result.get("errorCode") or "") if isinstance(result, dict) else "UNREADABLE"
        reports: list[ReplaceReport] = []
        for i, (bet_id, _price) in enumerate(changes):
            item = items[i] if i < len(items) and isinstance(items[i], dict) else {}
            cancel = _parse_cancel(item.get("cancelInstructionReport"), bet_id, code)
            place_item = item.get("placeInstructionReport")
            place = None
            if isinstance(place_item, dict):
                ref = str((place_item.get("instruction") or {}).get("customerOrderRef") or "")
                request = OrderRequest(market_id, 0, Side.BACK, 0.0, 0.0, ref)
                place = parse_place_reports(
                    {"errorCode": code, "instructionReports": [place_item]}, [request]
                )[0]
            if item.get("status") == "SUCCESS":
                reports.append(ReplaceReport(Outcome.DONE, bet_id, cancel, place))
            else:
                outcome, kind, err = _instruction_failure(code, str(item.get("errorCode") or ""))
                if cancel.outcome is Outcome.UNKNOWN or (
                    place and place.outcome is Outcome.UNKNOWN
                ):
                    outcome = Outcome.UNKNOWN
                reports.append(ReplaceReport(outcome, bet_id, cancel, place, kind, err))
        return reports

    async def list_current_orders(
        self,
        market_ids: Sequence[str] | None = None,
        customer_order_refs: Sequence[str] | None = None,
    ) -> list[CurrentOrder]:
        orders: list[CurrentOrder] = []
        start = 0
        while True:
            params: dict[str, Any] = {
                "orderProjection": "ALL",
                "dateRange": filters.time_range(),
                "fromRecord": start,
                "recordCount": PAGE_SIZE,
            }
            if market_ids:
                params["marketIds"] = list(market_ids)
            if customer_order_refs:
                params["customerOrderRefs"] = list(customer_order_refs)
            result = await self._list_call("listCurrentOrders", params)
            items = result.get("currentOrders") or []
            for item in items:
                try:
                    orders.append(parse_current_order(item))
                except (KeyError, TypeError, ValueError) as exc:
                    self._count("malformed_current_order")
                    log.warning("malformed_current_order", error=repr(exc))
            if not result.get("moreAvailable") or not items:
                return orders
            start += len(items)

    async def list_cleared_orders(
        self, market_ids: Sequence[str] | None = None
    ) -> list[ClearedOrder]:
        params: dict[str, Any] = {"betStatus": "SETTLED", "settledDateRange": filters.time_range()}
        if market_ids:
            params["marketIds"] = list(market_ids)
        result = await self._list_call("listClearedOrders", params)
        cleared: list[ClearedOrder] = []
        for item in result.get("clearedOrders") or []:
            try:
                cleared.append(parse_cleared_order(item))
            except (KeyError, TypeError, ValueError) as exc:
                self._count("malformed_cleared_order")
                log.warning("malformed_cleared_order", error=repr(exc))
        return cleared

    async def _list_call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await self._transport.call(operation, params)
        except BettingCallError as exc:
            raise ExchangeUnavailableError(f"{operation}: {exc}") from exc
        if not isinstance(result, dict):
            raise ExchangeUnavailableError(f"{operation}: unreadable result")
        return result
