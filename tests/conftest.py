"""Fixtures shared by every kind of test: an in-process moto DynamoDB built from template.yaml,
the handlers wired to it, and a counter of DynamoDB round trips and bytes."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from decision_flows_local import template
from decision_flows_local.gateway import Api, Caller
from decision_flows_local.store import embedded_tables
from decision_flows_local.streams import StreamPoller

TENANT_A = "tenant-a"
TENANT_B = "tenant-b"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **template.function_environment(),
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("DYNAMODB_ENDPOINT_URL", None)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A fresh moto DynamoDB with the template's tables; handlers build their clients against it."""
    with embedded_tables() as client:
        yield client


@pytest.fixture
def stream(dynamodb: Any) -> StreamPoller:
    """The flows table's stream, read from moto and handed to the consumer as Lambda would."""
    return StreamPoller.for_template(dynamodb)


@pytest.fixture
def editor(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_A, "editor", "editor@a.example"))


@pytest.fixture
def admin(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_A, "admin", "admin@a.example"))


@pytest.fixture
def viewer(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_A, "viewer", "viewer@a.example"))


@pytest.fixture
def other_tenant(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_B, "admin", "admin@b.example"))


@dataclass
class DynamoCalls:
    """DynamoDB calls the service's client made, with request and response bytes."""

    operations: list[str] = field(default_factory=list)
    request_bytes: int = 0
    response_bytes: int = 0

    def reset(self) -> None:
        self.operations.clear()
        self.request_bytes = self.response_bytes = 0

    @property
    def count(self) -> int:
        return len(self.operations)

    def by_operation(self) -> Counter[str]:
        return Counter(self.operations)


# Budgets exclude the idempotency and rate-limit records (their cost is per request, not per route).
NOT_COUNTED_TABLES = {os.environ["IDEMPOTENCY_TABLE_NAME"], os.environ["RATE_LIMIT_TABLE_NAME"]}


@pytest.fixture
def dynamo_calls(dynamodb: Any) -> DynamoCalls:
    calls = DynamoCalls()
    counting: list[bool] = []

    def on_request(request: Any, operation_name: str, **_: Any) -> None:
        table = json.loads(request.body or b"{}").get("TableName")
        counting.append(table not in NOT_COUNTED_TABLES)
        if counting[-1]:
            calls.operations.append(operation_name)
            calls.request_bytes += len(request.body or b"")

    def on_response(http_response: Any, **_: Any) -> None:
        if counting.pop(0):
            calls.response_bytes += len(http_response.content or b"")

    dynamodb.meta.events.register("request-created.dynamodb", on_request)
    dynamodb.meta.events.register("after-call.dynamodb", on_response)
    return calls
