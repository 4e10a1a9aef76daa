"""What one request costs in DynamoDB, read from botocore's events on the service's own client.

Every call is recorded with its operation, the tables it names, the bytes of the HTTP request body
and of the response body, and (only when asked for) the consumed capacity the endpoint reported.
Asking for capacity adds `ReturnConsumedCapacity` to the request and `ConsumedCapacity` to the
response, so bytes are measured on requests that do not ask, capacity on separate ones that do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# The operations that read or write items and accept ReturnConsumedCapacity.
DATA_OPERATIONS = (
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
)


@dataclass(frozen=True)
class Call:
    operation: str
    tables: frozenset[str]
    request_bytes: int
    response_bytes: int
    # None: capacity was not asked for, or the endpoint did not report it for this call.
    capacity_units: float | None = None


@dataclass(frozen=True)
class Cost:
    """The calls of one request on the tables that count."""

    calls: tuple[Call, ...]

    @property
    def round_trips(self) -> int:
        return len(self.calls)

    @property
    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    @property
    def request_bytes(self) -> int:
        return sum(call.request_bytes for call in self.calls)

    @property
    def response_bytes(self) -> int:
        return sum(call.response_bytes for call in self.calls)

    @property
    def total_bytes(self) -> int:
        return self.request_bytes + self.response_bytes


def only(calls: Iterable[Call], tables: set[str], *, inside: bool) -> Cost:
    """The calls that touch ``tables`` (inside) or touch none of them (not inside)."""
    return Cost(tuple(call for call in calls if bool(call.tables & tables) == inside))


class Meter:
    """Records the calls a client makes while ``record`` runs a request; nothing outside it."""

    def __init__(self, client: Any) -> None:
        self._recording = False
        self._asking_capacity = False
        self._calls: list[Call] = []
        self._sent: Call | None = None
        events = client.meta.events
        for operation in DATA_OPERATIONS:
            events.register(f"before-parameter-build.dynamodb.{operation}", self._ask_for_capacity)
        events.register("request-created.dynamodb", self._on_request)
        events.register("after-call.dynamodb", self._on_response)

    def record[T](self, send: Callable[[], T], *, capacity: bool = False) -> tuple[T, list[Call]]:
        self._calls, self._recording, self._asking_capacity = [], True, capacity
        try:
            result = send()
        finally:
            self._recording = self._asking_capacity = False
        return result, self._calls

    def _ask_for_capacity(self, params: dict[str, Any], **_: Any) -> None:
        if self._asking_capacity:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _on_request(self, request: Any, operation_name: str, **_: Any) -> None:
        if self._recording:
            body = request.body or b""
            self._sent = Call(operation_name, tables_named(json.loads(body or b"{}")), len(body), 0)

    def _on_response(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not self._recording or self._sent is None:
            return
        units = reported_capacity(parsed) if self._asking_capacity else None
        sent, self._sent = self._sent, None
        self._calls.append(
            Call(sent.operation, sent.tables, sent.request_bytes, len(http_response.content or b""), units)
        )


def tables_named(body: dict[str, Any]) -> frozenset[str]:
    """The tables a request body names: TableName, a batch's RequestItems, a transaction's items."""
    named = {body["TableName"]} if "TableName" in body else set()
    named |= set(body.get("RequestItems", {}))
    for item in body.get("TransactItems", []):
        named |= {operation["TableName"] for operation in item.values() if "TableName" in operation}
    return frozenset(named)


def reported_capacity(parsed: dict[str, Any]) -> float | None:
    """The capacity units a response reports in total, or None when it reports none."""
    reported = parsed.get("ConsumedCapacity")
    entries = reported if isinstance(reported, list) else [reported] if reported else []
    units = [entry["CapacityUnits"] for entry in entries if "CapacityUnits" in entry]
    return float(sum(units)) if units else None
