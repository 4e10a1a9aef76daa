"""Errors as RFC 9457 problem details in Powertools responses (``problem_details`` maps them)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from decision_flows.domain import errors
from decision_flows.observability import count_refusal
from decision_flows.web.problem_details import (
    PROBLEM_CONTENT_TYPE,
    UnsupportedMediaType,
    problem_document,
    route_not_found,
    status_of,
)

__all__ = ["PROBLEM_CONTENT_TYPE", "UnsupportedMediaType", "counted_problem_response", "problem_response", "status_of"]


def problem_response(error: errors.DomainError) -> Response[str]:
    status, headers, body = problem_document(error)
    return Response(status, PROBLEM_CONTENT_TYPE, body, headers)


def counted_problem_response(error: errors.DomainError) -> Response[str]:
    """Problem details for a route's refusal, with 409s and 429s counted (metrics)."""
    response = problem_response(error)
    count_refusal(response.status_code, error.code)
    return response


def register(app: APIGatewayHttpResolver) -> None:
    """Every domain error becomes problem details; anything else is a bug and surfaces as one."""
    app.exception_handler(errors.DomainError)(counted_problem_response)
    app.not_found(lambda _: problem_response(route_not_found()))
