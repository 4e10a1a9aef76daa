"""What the HTTP API's $default route answers, that is every request no other route takes: 405
``METHOD_NOT_ALLOWED`` with ``Allow`` on a route's path, else 404 ``ROUTE_NOT_FOUND``, both problem
details. The route is behind the authorizer, so a refused credential gets its 401 or 403 first, as
on every other route. Standard library only: the function that serves it stays cheap to start."""

from __future__ import annotations

from typing import Any

from decision_flows.domain.errors import DomainError
from decision_flows.web.auth_refusals import refusal
from decision_flows.web.problem_details import (
    PROBLEM_CONTENT_TYPE,
    method_not_allowed,
    problem_document,
    route_not_found,
)

# Which methods each path takes: template.yaml gives NotFoundFunction its routes in this variable.
ROUTES_VARIABLE = "ROUTES"


def parse_routes(text: str) -> dict[str, tuple[str, ...]]:
    """``/path=GET,POST`` entries separated by whitespace → path: methods."""
    routes: dict[str, tuple[str, ...]] = {}
    for entry in text.split():
        path, separator, methods = entry.partition("=")
        if not (path.startswith("/") and separator and methods):
            raise ValueError(f"{ROUTES_VARIABLE}: {entry!r} is not /path=METHOD,METHOD")
        routes[path] = tuple(methods.split(","))
    return routes


def refusal_for(event: dict[str, Any], routes: dict[str, tuple[str, ...]]) -> DomainError:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    context = authorizer.get("lambda") or {}
    if auth_error := context.get("authError"):
        return refusal(str(auth_error), context.get("decidedAt"))
    allowed = routes.get(event.get("rawPath") or "")
    if allowed is None:
        return route_not_found()
    return method_not_allowed(event["requestContext"]["http"]["method"], allowed)


def answer(event: dict[str, Any], routes: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The Lambda proxy result (payload 2.0) for an unrouted request."""
    status, headers, body = problem_document(refusal_for(event, routes))
    return {"statusCode": status, "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **headers}, "body": body}
