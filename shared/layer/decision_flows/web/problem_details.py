"""RFC 9457 problem documents, with the standard library only: the one place that maps error classes
to HTTP statuses and says which headers a refusal carries. ``problems`` makes Powertools responses of
them; the $default route's function (functions/not_found) answers them without loading Powertools."""

from __future__ import annotations

import json

from decision_flows.domain import errors

PROBLEM_CONTENT_TYPE = "application/problem+json"


class UnsupportedMediaType(errors.DomainError):
    """The request body is not JSON (415): an HTTP concern, so it lives here, not in the domain."""


class MethodNotAllowed(errors.DomainError):
    """The path is a route's, the method is none it takes (405, with Allow): HTTP's, like 415."""

    def __init__(self, code: str, detail: str, *, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(code, detail)
        self.allowed = allowed


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
    UnsupportedMediaType: 415,  # HTTP's own refusals, after the domain's
    MethodNotAllowed: 405,
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
AUTHENTICATE_CHALLENGE = "Bearer"


def route_not_found() -> errors.NotFound:
    return errors.NotFound("ROUTE_NOT_FOUND", "No route of this API has this path.")


def method_not_allowed(method: str, allowed: tuple[str, ...]) -> MethodNotAllowed:
    return MethodNotAllowed(
        "METHOD_NOT_ALLOWED", f"This path takes {', '.join(allowed)}, not {method}.", allowed=allowed
    )


def status_of(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    raise TypeError(f"no HTTP status for {type(error).__name__}")


def problem_document(error: errors.DomainError) -> tuple[int, dict[str, str], str]:
    """The refusal's status, its own headers (not Content-Type) and its problem document as JSON."""
    status = status_of(error)
    body: dict[str, object] = {
        "type": f"/problems/{error.code.lower().replace('_', '-')}",
        "title": TITLES[status],
        "status": status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.errors:
        body["errors"] = [{"field": problem.field, "message": problem.message} for problem in error.errors]
    return status, headers_of(error, status), json.dumps(body)


def headers_of(error: errors.DomainError, status: int) -> dict[str, str]:
    if isinstance(error, errors.RateLimited | errors.StoreUnavailable):
        return {"Retry-After": str(error.retry_after_seconds)}
    if isinstance(error, MethodNotAllowed):
        return {"Allow": ", ".join(error.allowed)}
    if status == 401:
        # RFC 9110 section 15.5.2: a 401 names the scheme that would get the client in.
        return {"WWW-Authenticate": AUTHENTICATE_CHALLENGE}
    return {}
