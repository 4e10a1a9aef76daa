"""The OpenAPI document: valid OpenAPI 3.1, every template route in it, built from the routes the handlers
state, which must agree with the template."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from decision_flows.models.identifiers import MAX_VERSION
from decision_flows_local import template
from decision_flows_local.api import openapi


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.build()


def accepts(document: dict[str, Any], schema_name: str, field: str, value: Any) -> bool:
    schema = document["components"]["schemas"][schema_name]["properties"][field]
    return bool(Draft202012Validator({**schema, "components": document["components"]}).is_valid(value))


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_template_route_is_an_operation_with_its_credentials(document: dict[str, Any]) -> None:
    for route in template.path_routes():
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.event
        tenant_header = [p for p in operation["parameters"] if p["name"] == "X-Tenant-Id" and p["in"] == "header"]
        if route.authorizer is None:
            assert (operation["security"], tenant_header) == ([], [])
        else:
            assert "security" not in operation  # the document's default: the bearer scheme
            assert tenant_header[0]["required"] is True
            assert {"401", "403", "429"} <= operation["responses"].keys()
    assert document["security"] == [{"bearer": []}]


def test_a_template_route_no_handler_states_is_an_error_that_names_it() -> None:
    routes = [
        *template.routes(),
        template.TemplateRoute("GET", "/api/v1/decision-flows/audit", "AuditFunction", "Auth"),
    ]
    with pytest.raises(openapi.RouteMismatch, match=r"routes GET /api/v1/decision-flows/audit to AuditFunction, whose"):
        openapi.check(routes, openapi.declared_routes())


def test_a_route_a_handler_states_but_the_template_does_not_route_is_an_error() -> None:
    routes = [route for route in template.routes() if route.path != "/api/v1/decision-flows/rollback"]
    with pytest.raises(
        openapi.RouteMismatch, match=r"RollbackFunction's handler states POST /api/v1/decision-flows/ro"
    ):
        openapi.check(routes, openapi.declared_routes())


def test_a_route_the_template_gives_to_another_function_is_an_error() -> None:
    routes = [
        replace(route, function="LiveFunction") if route.method == "DELETE" else route for route in template.routes()
    ]
    with pytest.raises(openapi.RouteMismatch, match=r"routes it to LiveFunction, DraftsFunction states it"):
        openapi.check(routes, openapi.declared_routes())


def test_a_role_on_a_route_without_authorizer_is_an_error() -> None:
    routes = [replace(route, authorizer=None) if route.method == "PUT" else route for route in template.routes()]
    with pytest.raises(openapi.RouteMismatch, match=r"PUT /api/v1/decision-flows: role editor but authorizer None"):
        openapi.check(routes, openapi.declared_routes())


def test_every_operation_says_the_minimum_role_its_handler_states(document: dict[str, Any]) -> None:
    for (method, path), route in openapi.operations().items():
        description = document["paths"][path][method.lower()]["description"]
        assert description == (f"Minimum role: {route.role.name.lower()}." if route.role else "No credentials.")


def test_problems_are_problem_json_and_the_gateways_own_401_is_plain_json(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/v1/decision-flows"]["post"]["responses"]
    assert set(responses) == {"201", "400", "401", "403", "409", "413", "415", "422", "429", "503"}
    assert set(responses["401"]["content"]) == {"application/problem+json", "application/json"}
    assert set(responses["415"]["content"]) == {"application/problem+json"}
    assert "Retry-After" in responses["429"]["headers"]
    assert {"ETag", "Location"} <= responses["201"]["headers"].keys()


def test_views_describe_their_fields_and_left_out_fields_are_absent_never_null(document: dict[str, Any]) -> None:
    flow = document["components"]["schemas"]["FlowView"]
    assert "draftConfig" not in flow["required"]
    assert not accepts(document, "FlowView", "draftConfig", None)
    assert "description" in flow["required"]
    assert accepts(document, "FlowView", "description", None)
    assert not accepts(document, "VersionSummaryView", "restoredFrom", None)
    assert not accepts(document, "ChangeEntryView", "previousDraft", None)


def test_update_fields_are_nullable_only_where_the_api_accepts_null(document: dict[str, Any]) -> None:
    fields = document["components"]["schemas"]["UpdateFlowRequest"]["properties"]
    nullable = {name for name in fields if accepts(document, "UpdateFlowRequest", name, None)}
    assert nullable == {"description", "rowVersion"}


def test_query_parameters_are_never_null_and_required_only_where_every_query_model_requires_them(
    document: dict[str, Any],
) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/decision-flows"]["get"]["parameters"]}
    assert parameters["id"]["required"] is False  # the list needs no id; one flow does
    assert parameters["limit"]["schema"]["type"] == "integer"
    versions = {p["name"]: p for p in document["paths"]["/api/v1/decision-flows/versions"]["get"]["parameters"]}
    assert versions["id"]["required"] is True
    # a version number is bounded (18 digits) because it becomes a sort key
    assert versions["version"]["schema"] == {"type": "integer", "minimum": -MAX_VERSION, "maximum": MAX_VERSION}


def test_publish_and_rollback_may_answer_a_dry_run(document: dict[str, Any]) -> None:
    for path in ("/api/v1/decision-flows/publish", "/api/v1/decision-flows/rollback"):
        schema = document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {
            "anyOf": [{"$ref": "#/components/schemas/FlowView"}, {"$ref": "#/components/schemas/DryRunView"}]
        }
    diff = document["paths"]["/api/v1/decision-flows/diff"]["get"]
    assert {parameter["name"] for parameter in diff["parameters"]} >= {"id", "from", "to", "include"}


def test_every_operation_is_tagged_by_its_route_family(document: dict[str, Any]) -> None:
    tags = {
        (method.upper(), path): operation["tags"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert all(len(tag) == 1 for tag in tags.values())
    assert tags["GET", "/api/v1/decision-flows"] == ["flows"]
    assert tags["POST", "/api/v1/decision-flows/publish"] == tags["POST", "/api/v1/decision-flows/rollback"]
    assert tags["POST", "/api/v1/decision-flows/rollout/promote"] == ["rollout"]
    assert tags["GET", "/api/v1/health"] == ["health"]
    assert {tag["name"] for tag in document["tags"]} == {tag for (tag,) in tags.values()}


def test_timestamps_are_date_times(document: dict[str, Any]) -> None:
    # Every property named like a timestamp (createdAt, at, …) says so, so clients parse it as one
    timestamps = {
        f"{name}.{prop}": schema
        for name, model in document["components"]["schemas"].items()
        for prop, schema in model.get("properties", {}).items()
        if prop == "at" or prop.endswith("At")
    }
    assert "FlowView.createdAt" in timestamps
    untyped = sorted(where for where, schema in timestamps.items() if schema.get("format") != "date-time")
    assert untyped == []


def test_schema_names_are_readable(document: dict[str, Any]) -> None:
    names = document["components"]["schemas"]
    assert {"FormatChange", "ScoringMethodChange", "NodeCountChange"} <= names.keys()
    assert [name for name in names if not name.isidentifier() or "_" in name] == []


def test_a_401_admits_the_gateways_own_body_under_either_media_type(document: dict[str, Any]) -> None:
    # A client generator reads one media type of a response: each must admit both bodies
    for item in document["paths"].values():
        for operation in item.values():
            if "401" in operation["responses"]:
                content = operation["responses"]["401"]["content"]
                for media_type in ("application/problem+json", "application/json"):
                    refs = {option["$ref"].rsplit("/", 1)[1] for option in content[media_type]["schema"]["oneOf"]}
                    assert refs == {"Problem", "GatewayMessage"}
