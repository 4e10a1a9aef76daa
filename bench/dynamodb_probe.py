"""What a request asks of DynamoDB, seen from botocore's events: which calls, and how long they took.

Attached to a client, a probe records each call's signature (operation, tables, the parameters it
sends and the item keys it names) and its time, split into the store's own work (moto, between
``before-send`` and ``before-parse``) and the SDK's (serialising, parsing: the rest of the call,
from ``provide-client-params`` to ``after-call``). The hooks cost well under a microsecond each and
are attached to both the real and the baseline client, so they weigh the same on both sides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# The rate-limit table's key names the current minute: equal calls may differ there by a window.
MINUTE_KEYED_TABLES = frozenset({"RateLimitTable"})

Statement = tuple[str, str, tuple[str, ...], tuple[str, ...]]
Signature = tuple[str, tuple[str, ...], tuple[Statement, ...]]


@dataclass
class Call:
    signature: Signature
    started_ns: int
    sent_ns: int = 0
    answered_ns: int = 0
    finished_ns: int = 0

    @property
    def store_ns(self) -> int:
        return self.answered_ns - self.sent_ns

    @property
    def total_ns(self) -> int:
        return self.finished_ns - self.started_ns

    def describe(self) -> str:
        operation, _, statements = self.signature
        return f"{operation}({', '.join(sorted({table for _, table, _, _ in statements}))})"


@dataclass
class DynamoDBProbe:
    """Attach with ``attach(client)``; ``calls`` holds the calls since the last ``reset()``."""

    calls: list[Call] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("provide-client-params.dynamodb", self._started)
        # First, so that the clock starts before moto's own before-send hook answers the request.
        events.register_first("before-send.dynamodb", self._sent)
        events.register("before-parse.dynamodb", self._answered)
        events.register("after-call.dynamodb", self._finished)
        events.register("after-call-error.dynamodb", self._finished)

    def reset(self) -> None:
        self.calls = []

    def signatures(self) -> list[Signature]:
        return [call.signature for call in self.calls]

    def store_ns(self) -> int:
        return sum(call.store_ns for call in self.calls)

    def sdk_ns(self) -> int:
        return sum(call.total_ns - call.store_ns for call in self.calls)

    def _started(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append(Call(signature(model.name, params), time.perf_counter_ns()))

    def _sent(self, **_: Any) -> None:
        self.calls[-1].sent_ns = time.perf_counter_ns()

    def _answered(self, **_: Any) -> None:
        self.calls[-1].answered_ns = time.perf_counter_ns()

    def _finished(self, **_: Any) -> None:
        self.calls[-1].finished_ns = time.perf_counter_ns()


def signature(operation: str, params: dict[str, Any]) -> Signature:
    """The operation, its tables, and per statement: the kind, the table, the parameter names sent
    (so a missing ConsistentRead or condition shows) and the keys it names."""
    if operation == "TransactWriteItems":
        statements = [(kind, body) for item in params["TransactItems"] for kind, body in item.items()]
    elif operation == "BatchGetItem":
        statements = [("Get", {"TableName": table, **spec}) for table, spec in params["RequestItems"].items()]
    else:
        statements = [(operation, params)]
    described = tuple(
        (kind, body["TableName"], tuple(sorted(body)), _keys(body["TableName"], body)) for kind, body in statements
    )
    top_level = tuple(sorted(name for name in params if name not in ("TransactItems", "RequestItems")))
    return operation, top_level, described


def _keys(table: str, body: dict[str, Any]) -> tuple[str, ...]:
    """The items a statement names: its key(s), or for a query its key condition and values."""
    if "KeyConditionExpression" in body:
        values = sorted((name, str(value)) for name, value in body.get("ExpressionAttributeValues", {}).items())
        return (body["KeyConditionExpression"], *(f"{name}={value}" for name, value in values))
    if "Item" in body:
        keys = [{name: value for name, value in body["Item"].items() if name in ("PK", "SK")}]
    else:
        keys = body.get("Keys") or [body["Key"]]
    if table in MINUTE_KEYED_TABLES:
        return tuple(",".join(sorted(key)) for key in keys)
    return tuple(",".join(f"{name}={value}" for name, value in sorted(key.items())) for key in keys)
