"""What each DynamoDB call of a request costs, read from botocore's events on the service's client:
operation, tables, request + response body bytes, and the read and write units DynamoDB would charge
by its documented rules from the sizes (names plus values) of the items the call reads or writes,
looked up in moto's tables before and after the call: reads in 4 KB units per item (eventually
consistent half; a Query's returned items summed), writes in 1 KB units of the larger of the item
before and after (doubled in a transaction, a ConditionCheck counted as a write); at least one unit.
Left out: write units on global secondary indexes. moto's own ConsumedCapacity is a fixed placeholder.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from decision_flows_local.dynamodb.embedded import embedded_table

READ_UNIT, WRITE_UNIT = 4096, 1024
# Each item a call names by key: (table, key, units per 4 KB read or 1 KB written, a write?, item before)
Touched = list[tuple[str, dict[str, Any], float, bool, dict[str, Any] | None]]
Units = tuple[float | None, float | None]  # read, write; None for an operation the estimate does not cover


@dataclass(frozen=True)
class Call:
    operation: str
    tables: frozenset[str]
    bytes: int  # request + response body
    read_units: float | None  # None: an operation the estimate does not cover
    write_units: float | None


class Meter:
    """Records the calls the client makes while ``record`` runs a request (nothing outside it), and the
    items its writes replaced, so that ``undo`` can put them back."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._calls: list[Call] | None = None
        self._written: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        self._sent: tuple[str, dict[str, Any], int, Touched] | None = None
        client.meta.events.register("request-created.dynamodb", self._on_request)
        client.meta.events.register("after-call.dynamodb", self._on_response)

    def record[T](self, send: Callable[[], T]) -> tuple[T, list[Call]]:
        self._calls, self._written = [], []
        try:
            return send(), self._calls
        finally:
            self._calls = None

    def undo(self) -> None:
        """Every item the last request wrote, as it was before (deleted if there was none)."""
        for table, key, before in reversed(self._written):
            if before is None:
                self._client.delete_item(TableName=table, Key=key)
            else:
                self._client.put_item(TableName=table, Item=before)

    def _on_request(self, request: Any, operation_name: str, **_: Any) -> None:
        if self._calls is not None:
            body = json.loads(request.body or b"{}")
            items = [(*named, stored_item(*named[:2])) for named in touched(operation_name, body)]
            self._written += [(table, key, before) for table, key, _, writes, before in items if writes]
            self._sent = (operation_name, body, len(request.body or b""), items)

    def _on_response(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if self._calls is None or self._sent is None:
            return
        (operation, body, sent, items), self._sent = self._sent, None
        tables = frozenset({body["TableName"]} if "TableName" in body else {table for table, *_ in items})
        received = len(http_response.content or b"")
        self._calls.append(Call(operation, tables, sent + received, *estimate(operation, body, items, parsed)))


def touched(operation: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any], float, bool]]:
    def key(table: str, request: dict[str, Any]) -> dict[str, Any]:
        found = embedded_table(table)
        names = (found.hash_key_attr, found.range_key_attr)
        return request.get("Key") or {name: request["Item"][name] for name in names if name}

    def read(request: dict[str, Any]) -> float:
        return 1.0 if request.get("ConsistentRead") else 0.5

    if operation == "GetItem":
        return [(body["TableName"], body["Key"], read(body), False)]
    if operation == "BatchGetItem":
        return [(table, k, read(asked), False) for table, asked in body["RequestItems"].items() for k in asked["Keys"]]
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(body["TableName"], key(body["TableName"], body), 1.0, True)]
    if operation == "TransactWriteItems":
        targets = [target for entry in body["TransactItems"] for target in entry.values()]
        return [(target["TableName"], key(target["TableName"], target), 2.0, True) for target in targets]
    return []


def estimate(operation: str, body: dict[str, Any], items: Touched, parsed: dict[str, Any]) -> Units:
    """The read and write units DynamoDB would charge for the call."""
    if not items and operation != "Query":  # not an operation ``touched`` knows
        return None, None
    if operation == "Query":
        returned = sum(item_size(item) for item in parsed.get("Items", []))
        return units(returned, READ_UNIT, 1.0 if body.get("ConsistentRead") else 0.5), 0.0
    read = sum(units(item_size(before), READ_UNIT, factor) for *_, factor, writes, before in items if not writes)
    after = [(max(item_size(before), item_size(stored_item(t, k))), f) for t, k, f, writes, before in items if writes]
    return read, sum(units(size, WRITE_UNIT, factor) for size, factor in after)


def units(size: int, unit: int, factor: float) -> float:
    return factor * max(1, math.ceil(size / unit))


def stored_item(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item stored under ``key`` now, read from moto directly (not through the metered client)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = embedded_table(table_name)
    sort_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    found = table.get_item(DynamoType(key[table.hash_key_attr]), sort_key)
    return None if found is None else dict(found.to_json()["Attributes"])


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it: each attribute's name (UTF-8) plus its value; none, 0."""
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def value_size(value: dict[str, Any]) -> int:
    """Strings and binaries: their bytes; numbers: 1 byte per 2 significant digits, plus 1; booleans and
    null: 1; lists and maps: 3, plus 1 per element (and a map's names); sets: their elements."""
    ((kind, inner),) = value.items()
    if kind in ("L", "M"):
        elements = inner.items() if kind == "M" else (("", element) for element in inner)
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in elements)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in inner)
    if kind == "N":
        return (len(Decimal(inner).normalize().as_tuple().digits) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(inner))
    return len(inner.encode()) if kind == "S" else 1  # BOOL, NULL
