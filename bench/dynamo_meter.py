"""What one request costs in DynamoDB, read from botocore's events on the service's own client.

Every call is recorded with its operation, the tables it names, the bytes of the HTTP request body
and of the response body, (only when asked for) the consumed capacity the endpoint reported, and
(when the meter is given the stored items) an estimate of the capacity units DynamoDB would charge.
Asking for capacity adds `ReturnConsumedCapacity` to the request and `ConsumedCapacity` to the
response, so bytes are measured on requests that do not ask, capacity on separate ones that do.

The estimate applies DynamoDB's documented rules to the sizes of the items each call reads or
writes (``item_size``: attribute names plus values, as DynamoDB sizes them):

- reads: per 4 KB, rounded up; eventually consistent half, strongly consistent one, transactional two
  units per 4 KB; GetItem, BatchGetItem and TransactGetItems per item (the stored item, whatever the
  projection); Query and Scan on the sum of the items, rounded up once. Query/Scan items are taken
  from the response, so a filter or a projection would make them an underestimate (no measured route
  filters or projects a query; an index query returns the index's items, which is what it reads);
- writes: per 1 KB, rounded up, of the larger of the item before and after the call (both read from
  the store); transactional two units per KB, a transaction's ConditionCheck counted like a write of
  the checked item; BatchWriteItem per item; never less than one unit.

Left out: the write units a write also costs on each global secondary index that holds the item,
and on-demand minimums or free tiers; the stream and the consumer's own calls are not measured here.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

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
READ_UNIT_BYTES = 4 * 1024
WRITE_UNIT_BYTES = 1024


@dataclass(frozen=True)
class Estimate:
    """Capacity units DynamoDB would charge for one call, by its rules, from the items' sizes."""

    read_units: float = 0.0
    write_units: float = 0.0

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.read_units + other.read_units, self.write_units + other.write_units)


@dataclass(frozen=True)
class Call:
    operation: str
    tables: frozenset[str]
    request_bytes: int
    response_bytes: int
    # None: capacity was not asked for, or the endpoint did not report it for this call.
    capacity_units: float | None = None
    # None: the meter was given no stored items, or the operation is not one it estimates.
    estimate: Estimate | None = None


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

    @property
    def estimate(self) -> Estimate | None:
        """The calls' estimates summed; None when any call has none."""
        if any(call.estimate is None for call in self.calls):
            return None
        return sum((call.estimate for call in self.calls if call.estimate), Estimate())


def only(calls: Iterable[Call], tables: set[str], *, inside: bool) -> Cost:
    """The calls that touch ``tables`` (inside) or touch none of them (not inside)."""
    return Cost(tuple(call for call in calls if bool(call.tables & tables) == inside))


class StoredItems(Protocol):
    """The store's items as they are now, read without a call through the client (nothing metered)."""

    def key_names(self, table: str) -> tuple[str, ...]: ...

    def item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None: ...


@dataclass
class _Sent:
    """A call on its way: what the estimate needs from the request and from the items before it."""

    call: Call
    body: dict[str, Any]
    # (units per KB multiple, table, key, size before) of every item a write touches
    writes: list[tuple[int, str, dict[str, Any], int]] = field(default_factory=list)
    reads: float = 0.0


class Meter:
    """Records the calls a client makes while ``record`` runs a request; nothing outside it."""

    def __init__(self, client: Any, stored: StoredItems | None = None) -> None:
        self._recording = False
        self._asking_capacity = False
        self._calls: list[Call] = []
        self._sent: _Sent | None = None
        self._stored = stored
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
            raw = request.body or b""
            body = json.loads(raw or b"{}")
            self._sent = _Sent(Call(operation_name, tables_named(body), len(raw), 0), body)
            if self._stored is not None:
                self._before(self._sent, self._stored)

    def _on_response(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not self._recording or self._sent is None:
            return
        units = reported_capacity(parsed) if self._asking_capacity else None
        sent, self._sent = self._sent, None
        estimate = self._after(sent, parsed, self._stored) if self._stored is not None else None
        call = sent.call
        self._calls.append(
            Call(call.operation, call.tables, call.request_bytes, len(http_response.content or b""), units, estimate)
        )

    def _before(self, sent: _Sent, stored: StoredItems) -> None:
        """Reads of items named by key, and every write's item as it was before the call."""
        body, operation = sent.body, sent.call.operation

        def size(table: str, key: dict[str, Any]) -> int:
            found = stored.item(table, key)
            return item_size(found) if found is not None else 0

        def write(per_kb: int, table: str, key: dict[str, Any]) -> None:
            sent.writes.append((per_kb, table, key, size(table, key)))

        def key_of(table: str, item: dict[str, Any]) -> dict[str, Any]:
            return {name: item[name] for name in stored.key_names(table)}

        if operation == "GetItem":
            sent.reads += read_units(size(body["TableName"], body["Key"]), body.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for table, wanted in body["RequestItems"].items():
                for key in wanted["Keys"]:
                    sent.reads += read_units(size(table, key), wanted.get("ConsistentRead", False))
        elif operation == "TransactGetItems":
            for entry in body["TransactItems"]:
                sent.reads += 2 * read_units(size(entry["Get"]["TableName"], entry["Get"]["Key"]), True)
        elif operation == "PutItem":
            write(1, body["TableName"], key_of(body["TableName"], body["Item"]))
        elif operation in ("UpdateItem", "DeleteItem"):
            write(1, body["TableName"], body["Key"])
        elif operation == "BatchWriteItem":
            for table, requests in body["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        write(1, table, key_of(table, request["PutRequest"]["Item"]))
                    else:
                        write(1, table, request["DeleteRequest"]["Key"])
        elif operation == "TransactWriteItems":
            for entry in body["TransactItems"]:
                ((action, target),) = entry.items()
                key = key_of(target["TableName"], target["Item"]) if action == "Put" else target["Key"]
                write(2, target["TableName"], key)

    def _after(self, sent: _Sent, parsed: dict[str, Any], stored: StoredItems) -> Estimate | None:
        operation = sent.call.operation
        if operation in ("Query", "Scan"):
            read = sum(item_size(item) for item in parsed.get("Items", []))
            return Estimate(read_units=read_units(read, sent.body.get("ConsistentRead", False)))
        if operation not in DATA_OPERATIONS:
            return None
        written = 0.0
        for per_kb, table, key, before in sent.writes:
            now = stored.item(table, key)
            written += per_kb * write_units(max(before, item_size(now) if now is not None else 0))
        return Estimate(read_units=sent.reads, write_units=written)


def read_units(size: int, consistent: bool) -> float:
    """One item (or a Query's items together): 4 KB units, at least one; eventually consistent half."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: each attribute's name (UTF-8) plus its value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: dict[str, Any]) -> int:
    """A value in DynamoDB JSON: strings and binaries their bytes, numbers one byte per two significant
    digits plus one, booleans and null one, lists and maps 3 bytes plus 1 per element (and a map's
    element names), sets the sum of their elements."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(text.encode()) for text in inner)
    if kind == "NS":
        return sum(number_size(text) for text in inner)
    if kind == "BS":
        return sum(binary_size(blob) for blob in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in inner.items())
    raise ValueError(f"not a DynamoDB value: {value!r}")


def number_size(text: str) -> int:
    """Significant digits (leading and trailing zeros trimmed), two to a byte, plus one byte."""
    try:
        digits = len(Decimal(text).normalize().as_tuple().digits)
    except InvalidOperation:
        digits = sum(character.isdigit() for character in text)
    return (digits + 1) // 2 + 1


def binary_size(blob: str | bytes) -> int:
    return len(blob) if isinstance(blob, bytes) else len(base64.b64decode(blob))


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
