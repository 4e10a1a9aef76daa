"""The $default route's answers (404 ROUTE_NOT_FOUND, 405 METHOD_NOT_ALLOWED with Allow), the routes
its function is given, and how the local gateway picks a route as API Gateway does."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from typing import Any

import pytest

from decision_flows.web.unrouted import ROUTES_VARIABLE, answer, parse_routes
from decision_flows_local import template
from decision_flows_local.api import gateway
from decision_flows_local.api.gateway import Caller, build_event

ROUTES = {"/api/v1/decision-flows": ("GET", "POST"), "/api/v1/health": ("GET",)}
CALLER = Caller("tenant-a", "viewer")


def routed_to_default() -> template.TemplateRoute:
    (route,) = [route for route in template.routes() if route.path == template.DEFAULT_ROUTE]
    return route


def the_function_s_routes() -> dict[str, tuple[str, ...]]:
    variables = template.resources("AWS::Serverless::Function")[routed_to_default().function]["Properties"]
    return parse_routes(variables["Environment"]["Variables"][ROUTES_VARIABLE])


def test_the_default_routes_function_knows_exactly_the_templates_other_routes() -> None:
    # Given the methods each path takes by the template's HttpApi events
    expected: dict[str, set[str]] = defaultdict(set)
    for route in template.routes():
        if route.path != template.DEFAULT_ROUTE:
            expected[route.path].add(route.method)
    # Then the $default route's function is given the same, so its Allow headers are the truth
    assert {path: set(methods) for path, methods in the_function_s_routes().items()} == expected


def test_the_default_route_is_behind_the_authorizer_and_reads_no_dynamodb() -> None:
    route = routed_to_default()
    assert route.authorizer is not None
    policies = template.resources("AWS::Serverless::Function")[route.function]["Properties"].get("Policies")
    assert policies is None


def problem(result: dict[str, Any]) -> tuple[int, str]:
    assert result["headers"]["Content-Type"] == "application/problem+json"
    body = json.loads(result["body"])
    assert body["status"] == result["statusCode"]
    return result["statusCode"], body["code"]


def test_a_path_that_is_no_route_is_404() -> None:
    result = answer(build_event("GET", "/api/v1/decision-flow", caller=CALLER), ROUTES)
    assert problem(result) == (404, "ROUTE_NOT_FOUND")
    assert "Allow" not in result["headers"]


def test_a_routes_path_with_another_method_is_405_with_allow() -> None:
    result = answer(build_event("PATCH", "/api/v1/decision-flows", caller=CALLER), ROUTES)
    assert problem(result) == (405, "METHOD_NOT_ALLOWED")
    assert result["headers"]["Allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("auth_error", "expected"),
    [
        ("UNKNOWN_KEY", (401, "UNAUTHENTICATED")),
        ("TENANT_MISMATCH", (403, "TENANT_MISMATCH")),
        ("STORE_BUSY", (503, "STORE_BUSY")),
    ],
)
def test_a_refused_credential_is_refused_first(auth_error: str, expected: tuple[int, str]) -> None:
    # Given a request the authorizer let through without an identity
    event = build_event("PATCH", "/api/v1/decision-flows", caller=None)
    event["requestContext"]["authorizer"] = {"lambda": {"authError": auth_error}}
    # Then it gets the refusal every route gives, not a map of the routes
    result = answer(event, ROUTES)
    assert problem(result) == expected
    assert "Allow" not in result["headers"]


@pytest.mark.parametrize("text", ["api/v1/health=GET", "/api/v1/health", "/api/v1/health="])
def test_a_malformed_routes_variable_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=ROUTES_VARIABLE):
        parse_routes(text)


# Route matching, as API Gateway does it: exact method and path, then ANY on the path, then $default.


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/decision-flows", ("GET", "/api/v1/decision-flows")),
        ("PATCH", "/api/v1/decision-flows", ("ANY", "/api/v1/decision-flows")),
        ("PATCH", "/elsewhere", ("ANY", "$default")),
    ],
)
def test_route_matching_prefers_exact_then_any_then_default(
    monkeypatch: pytest.MonkeyPatch, method: str, path: str, expected: tuple[str, str]
) -> None:
    # Given the template's routes and an ANY route on the list's path
    routes = [*template.routes(), template.TemplateRoute("ANY", "/api/v1/decision-flows", "AnyFunction")]
    monkeypatch.setattr(template, "routes", lambda: routes)
    # When a request comes / Then API Gateway's precedence picks its route
    route = gateway.route_for(method, path)
    assert (route.method, route.path) == expected


def test_an_unrouted_event_names_the_default_route_as_api_gateway_does() -> None:
    event = build_event("GET", "/nowhere", caller=CALLER)
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"


def test_the_default_routes_function_starts_without_boto3_pydantic_or_powertools() -> None:
    # Given the function's handler module, loaded in a fresh interpreter as Lambda would at init
    properties = template.resources("AWS::Serverless::Function")[routed_to_default().function]["Properties"]
    handler = template.ROOT / properties["CodeUri"] / "app.py"
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(handler)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'boto3', 'pydantic', 'aws_lambda_powertools'}))"
    )
    environment = {"ROUTES": "/api/v1/health=GET", "PYTHONPATH": str(template.ROOT / "shared" / "layer")}
    # When it is imported / Then none of the heavy imports came with it (cold start)
    loaded = subprocess.run(  # noqa: S603 (this interpreter, our own probe)
        [sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True
    )
    assert loaded.stdout.strip() == "[]"
