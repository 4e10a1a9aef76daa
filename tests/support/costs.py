"""What one request costs in DynamoDB calls and bytes, measured apart from the calls before it."""

from __future__ import annotations

from collections.abc import Callable

from decision_flows_local.api.gateway import HttpResponse
from tests.support.dynamodb_calls import DynamoCalls


def measure(calls: DynamoCalls, request: Callable[[], HttpResponse]) -> tuple[HttpResponse, DynamoCalls]:
    calls.reset()
    response = request()
    measured = DynamoCalls(list(calls.operations), calls.request_bytes, calls.response_bytes)
    return response, measured
