"""Domain errors become RFC 9457 problem details with the right HTTP status."""

from __future__ import annotations

import json
from typing import Any

import pytest

from decision_flows.domain import errors
from decision_flows.domain.errors import FieldProblem
from decision_flows.web.problems import (
    PROBLEM_CONTENT_TYPE,
    UnsupportedMediaType,
    problem_response,
    status_of,
)

CASES = [
    pytest.param(errors.InvalidRequest, 400, "Bad Request", id="400"),
    pytest.param(errors.Unauthenticated, 401, "Unauthorized", id="401"),
    pytest.param(errors.Forbidden, 403, "Forbidden", id="403"),
    pytest.param(errors.NotFound, 404, "Not Found", id="404"),
    pytest.param(errors.Conflict, 409, "Conflict", id="409"),
    pytest.param(errors.PayloadTooLarge, 413, "Content Too Large", id="413"),
    pytest.param(UnsupportedMediaType, 415, "Unsupported Media Type", id="415"),
    pytest.param(errors.Unprocessable, 422, "Unprocessable Content", id="422"),
    pytest.param(errors.StoreUnavailable, 503, "Service Unavailable", id="503"),
]


def body_of(error: errors.DomainError) -> dict[str, Any]:
    response = problem_response(error)
    assert isinstance(response.body, str)
    parsed: dict[str, Any] = json.loads(response.body)
    return parsed


@pytest.mark.parametrize(("error_class", "status", "title"), CASES)
def test_each_error_class_maps_to_its_status(error_class: type[errors.DomainError], status: int, title: str) -> None:
    # Given a domain error of this class
    error = error_class("SOME_CODE", "Something happened.")
    # When it becomes a response
    response = problem_response(error)
    # Then the status, media type and RFC 9457 members are the contract's
    assert status_of(error) == status
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert body_of(error) == {
        "type": "/problems/some-code",
        "title": title,
        "status": status,
        "detail": "Something happened.",
        "code": "SOME_CODE",
    }


# A 401 names the scheme that gets the client in (RFC 9110 section 11.6.1); a 503 says when to retry.
HEADERS_BY_STATUS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}


@pytest.mark.parametrize(("error_class", "status", "title"), CASES)
def test_only_401_and_503_carry_headers_of_their_own(
    error_class: type[errors.DomainError], status: int, title: str
) -> None:
    # Given a refusal of this class / When it becomes a response
    response = problem_response(error_class("X", "x"))
    # Then it carries its status's headers and no other
    own_headers = {name: value for name, value in response.headers.items() if name != "Content-Type"}
    assert own_headers == HEADERS_BY_STATUS.get(status, {})


def test_field_problems_become_errors() -> None:
    # Given a validation error with two field problems
    error = errors.Unprocessable(
        "CONFIG_INVALID",
        "The pipeline config has 2 problem(s).",
        [FieldProblem("draftConfig.nodes[1].id", "duplicate node id 'a'"), FieldProblem("draftConfig.edges", "cycle")],
    )
    # When it becomes a body / Then `errors` lists them in order as {field, message}
    body = body_of(error)
    assert body["errors"] == [
        {"field": "draftConfig.nodes[1].id", "message": "duplicate node id 'a'"},
        {"field": "draftConfig.edges", "message": "cycle"},
    ]
    assert body["status"] == 422
    assert body["code"] == "CONFIG_INVALID"


def test_errors_is_absent_without_field_problems() -> None:
    assert "errors" not in body_of(errors.Conflict("ROW_VERSION_MISMATCH", "changed", []))


def test_type_is_derived_from_the_code() -> None:
    assert body_of(errors.flow_not_found("df_1"))["type"] == "/problems/flow-not-found"
    assert body_of(errors.version_not_found("df_1", 3))["code"] == "VERSION_NOT_FOUND"


def test_subclass_of_a_mapped_error_inherits_its_status() -> None:
    class KeyGone(errors.NotFound):
        pass

    assert status_of(KeyGone("KEY_GONE", "gone")) == 404


def test_unmapped_error_class_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        status_of(errors.DomainError("X", "x"))


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        pytest.param(errors.row_version_mismatch(3, 4), 409, "ROW_VERSION_MISMATCH", id="row-version"),
        pytest.param(errors.key_taken("k"), 409, "KEY_TAKEN", id="key-taken"),
        pytest.param(errors.flow_not_found("df_1"), 404, "FLOW_NOT_FOUND", id="flow-not-found"),
    ],
)
def test_error_factories_map_to_their_status(error: errors.DomainError, status: int, code: str) -> None:
    body = body_of(error)
    assert (body["status"], body["code"]) == (status, code)
    assert body["detail"] == error.detail


def test_an_errors_repr_shows_every_field_for_a_failing_test_or_a_log() -> None:
    error = errors.RateLimited("RATE_LIMITED", "Too many.", retry_after_seconds=7)

    assert repr(error) == "RateLimited(code='RATE_LIMITED', detail='Too many.', errors=[], retry_after_seconds=7)"
