"""Errors as RFC 9457 problem details: the one place that maps error classes to HTTP statuses."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from decision_flows.domain import errors
from decision_flows.observability import count_refusal

PROBLEM_CONTENT_TYPE = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.Unprocessable: 422,
    errors.RateLimited: 429,
    errors.StoreUnavailable: 503,
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
RETRY_AFTER_SECONDS = "1"
AUTHENTICATE_CHALLENGE = "Bearer"


class UnsupportedMediaType(errors.DomainError):
    """The request body is not JSON (415): an HTTP concern, so it lives here, not in the domain."""


STATUS_BY_ERROR[UnsupportedMediaType] = 415


def status_of(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    raise TypeError(f"no HTTP status for {type(error).__name__}")


def problem_response(error: errors.DomainError) -> Response[str]:
    status = status_of(error)
    body: dict[str, Any] = {
        "type": f"/problems/{error.code.lower().replace('_', '-')}",
        "title": TITLES[status],
        "status": status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.errors:
        body["errors"] = [{"field": problem.field, "message": problem.message} for problem in error.errors]
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else {}
    if isinstance(error, errors.RateLimited):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    if status == 401:
        # RFC 9110 section 15.5.2: a 401 names the scheme that would get the client in.
        headers = {"WWW-Authenticate": AUTHENTICATE_CHALLENGE}
    return Response(status, PROBLEM_CONTENT_TYPE, json.dumps(body), headers)


def counted_problem_response(error: errors.DomainError) -> Response[str]:
    """Problem details for a route's refusal, with 409s and 429s counted (metrics)."""
    response = problem_response(error)
    count_refusal(response.status_code, error.code)
    return response


def register(app: APIGatewayHttpResolver) -> None:
    """Every domain error becomes problem details; anything else is a bug and surfaces as one."""
    app.exception_handler(errors.DomainError)(counted_problem_response)
    app.not_found(lambda _: problem_response(errors.NotFound("ROUTE_NOT_FOUND", "No such route.")))
