"""Faults injected where DynamoDB's answers enter the service: botocore's event hooks on the real client.

``StoreFaults`` watches every call the handlers' client makes (``before-parameter-build``: once per operation,
whatever the retries) and answers chosen attempts itself (``before-send``: once per HTTP attempt),
so the SDK's retry handler sees the fault exactly as it would see DynamoDB's own answer: it retries
throttling and 5xx answers and connection errors, and gives up after its configured attempts.

A faulted attempt never reaches the store unless asked to: moto also answers ``before-send`` (after
our hook, and botocore calls every handler), so the hook points the request somewhere moto does not
serve; left alone, moto carries it out and the hook's answer replaces moto's (a lost response).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError

from decision_flows_local import template
from decision_flows_local.fixtures.samples import v2_config
from tests.support.dynamodb_calls import tables_named

TABLES = template.table_names()
DYNAMODB_ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
NOWHERE = "https://fault-injected.invalid/"


@dataclass(frozen=True)
class Call:
    """One DynamoDB operation the service called, with the tables it names."""

    index: int
    operation: str
    tables: frozenset[str]
    params: dict[str, Any] = field(repr=False, compare=False)

    def touches(self, logical_table: str) -> bool:
        return TABLES[logical_table] in self.tables

    @property
    def is_transaction(self) -> bool:
        return self.operation == "TransactWriteItems"


Answer = Callable[[Call, Any], AWSResponse]
"""Builds the fake answer for one attempt of a call (or raises, like a broken connection)."""


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _error_response(request: Any, status: int, error_type: str, **fields: Any) -> AWSResponse:
    body = json.dumps({"__type": DYNAMODB_ERROR_TYPE + error_type, "message": f"injected {error_type}", **fields})
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    headers["x-amzn-RequestId"] = "fault-injected"
    return AWSResponse(request.url, status, headers, _Body(body.encode()))


def error(code: str, status: int = 400) -> Answer:
    """DynamoDB's error answer ``code`` (e.g. ProvisionedThroughputExceededException, or 500 InternalServerError)."""
    return lambda _call, request: _error_response(request, status, code)


def cancelled(reason: str) -> Answer:
    """TransactionCanceledException whose first item has ``reason`` (ThrottlingError, TransactionConflict)."""

    def answer(call: Call, request: Any) -> AWSResponse:
        count = len(call.params.get("TransactItems", [])) or 1
        reasons = [{"Code": reason, "Message": f"injected {reason}"}] + [{"Code": "None"}] * (count - 1)
        return _error_response(request, 400, "TransactionCanceledException", CancellationReasons=reasons)

    return answer


def connection_lost() -> Answer:
    """The connection fails before an answer arrives (the SDK retries this as transient)."""

    def answer(_call: Call, request: Any) -> AWSResponse:
        raise EndpointConnectionError(endpoint_url=request.url)

    return answer


@dataclass
class _Fault:
    answer: Answer
    when: Callable[[Call], bool]
    attempts_left: int | None
    reaches_store: bool
    injected: int = 0


@dataclass
class StoreFaults:
    """Records every call and attempt of one client; ``inject`` makes chosen attempts fail."""

    calls: list[Call] = field(default_factory=list)
    attempts: list[Call] = field(default_factory=list)
    faulted: list[Call] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _current: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def on(cls, client: Any) -> StoreFaults:
        faults = cls()
        client.meta.events.register("before-parameter-build.dynamodb", faults._before_call)
        client.meta.events.register("before-send.dynamodb", faults._before_send)
        return faults

    def inject(
        self, answer: Answer, when: Callable[[Call], bool], attempts: int | None = None, reaches_store: bool = False
    ) -> None:
        """Answer the attempts of calls ``when`` accepts with ``answer``: the next ``attempts`` of them, or all.

        ``reaches_store``: the attempt is carried out and only its answer is replaced (a lost response).
        """
        with self._lock:
            self._faults.append(_Fault(answer, when, attempts, reaches_store))

    def lift(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts.clear()
            self.faulted.clear()

    def attempts_of(self, operation: str, table: str | None = None) -> int:
        """Attempts sent of ``operation`` (on the template table ``table``, when given), faulted or not."""
        return sum(1 for attempt in self.attempts if on_operation(operation, table)(attempt))

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            call = Call(len(self.calls), model.name, frozenset(tables_named(params)), params)
            self.calls.append(call)
        self._current.call = call

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        call: Call = self._current.call
        with self._lock:
            self.attempts.append(call)
            fault = next((f for f in self._faults if f.attempts_left != 0 and f.when(call)), None)
            if fault is None:
                return None
            fault.injected += 1
            if fault.attempts_left is not None:
                fault.attempts_left -= 1
            self.faulted.append(call)
        response = fault.answer(call, request)
        if not fault.reaches_store:
            request.url = NOWHERE  # moto's own before-send handler runs next: it must find nothing to serve
        return response


def nth_call(index: int) -> Callable[[Call], bool]:
    """The call at ``index`` (0-based) since the last ``reset``."""
    return lambda call: call.index == index


def on_operation(operation: str, table: str | None = None) -> Callable[[Call], bool]:
    """Calls of ``operation`` (on the template table ``table``, when given)."""
    return lambda call: call.operation == operation and (table is None or call.touches(table))


@dataclass
class Backoff:
    """Stands in for the ``time`` module of botocore's endpoint: records the SDK's retry delays, sleeps none."""

    delays: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@cache
def _reader() -> Any:
    """A client of its own for reading the tables: its calls are neither recorded nor faulted."""
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


def stored_items() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table but the rate limit's (which counts requests, faulted ones too), sorted."""
    client = _reader()
    state: dict[str, list[dict[str, Any]]] = {}
    for logical, name in TABLES.items():
        if logical == "RateLimitTable":
            continue
        found: list[dict[str, Any]] = client.scan(TableName=name)["Items"]
        state[logical] = sorted(found, key=lambda item: json.dumps(item, sort_keys=True))
    return state


def published_twice(api: Any, key: str) -> dict[str, Any]:
    """A flow with v1 (config "a") and v2 (config "b") published: the flow as the second publish answered it."""
    flow = api.create(key=key, name=key.title(), draftConfig=v2_config("a")).body
    assert api.publish(id=flow["id"]).status == 200
    assert api.update(id=flow["id"], draftConfig=v2_config("b")).status == 200
    published: dict[str, Any] = api.publish(id=flow["id"]).body
    assert published["latestVersion"] == 2
    return published
