"""A Route is the one statement of a route's facts: its handler can read only what it declares."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from decision_flows.models.identity import Identity, Role
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.observability import Metric
from decision_flows.web.queries import FlowIdQuery, LiveQuery
from decision_flows.web.routes import IDEMPOTENT, IF_MATCH, WRITE_ERRORS, Route, declared
from decision_flows.web.views.flow_list import HealthView
from decision_flows.web.views.flows import FLOW, FlowView

PUBLISH = Route.post(
    "/flows/publish",
    "Publish",
    role=Role.EDITOR,
    body=PublishRequest,
    ok=FLOW,
    errors=WRITE_ERRORS,
    headers=IDEMPOTENT,
    metric=Metric.PUBLISHES,
)
HEALTH = Route.get("/health", "Health", role=None, ok={200: (HealthView,)})
GET_ONE = Route.get("/flows", "One flow", role=Role.VIEWER, ok={200: (FlowView,)}, query=(FlowIdQuery,))
IDENTITY = Identity(tenant_id="t1", role=Role.EDITOR, principal="ed")


def event(
    body: str | None = None, query: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> APIGatewayProxyEventV2:
    raw: dict[str, Any] = {"headers": {"content-type": "application/json", **(headers or {})}, "body": body}
    return APIGatewayProxyEventV2({**raw, "queryStringParameters": query})


def test_a_route_reads_the_body_and_query_it_declares() -> None:
    request = PUBLISH.read_body(event('{"id": "df_1", "expectedCurrentVersion": 1}'), PublishRequest)
    assert request.id == "df_1"
    assert GET_ONE.read_query(event(query={"id": "df_1"}), FlowIdQuery).id == "df_1"
    assert PUBLISH.if_match(event(headers={"if-match": '"3"'})) == 3


def test_reading_a_body_query_or_header_the_route_does_not_declare_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="declares PublishRequest, not RollbackRequest"):
        PUBLISH.read_body(event("{}"), RollbackRequest)
    with pytest.raises(TypeError, match="does not declare the query LiveQuery"):
        GET_ONE.read_query(event(query={"key": "k"}), LiveQuery)
    with pytest.raises(TypeError, match="does not declare the If-Match header"):
        GET_ONE.if_match(event(headers={"if-match": '"3"'}))


def test_a_route_without_credentials_admits_no_one() -> None:
    with pytest.raises(TypeError, match="takes no credentials"):
        HEALTH.admit(event())


def test_a_builder_states_the_method_and_keeps_every_fact_it_is_given() -> None:
    assert (PUBLISH.method, HEALTH.method) == ("POST", "GET")
    assert Route.put("/p", "Put", role=Role.ADMIN, ok={204: ()}).key == ("PUT", "/p")
    assert Route.delete("/p", "Delete", role=Role.ADMIN, ok={204: ()}, headers=IF_MATCH).headers == IF_MATCH
    assert PUBLISH.metric is Metric.PUBLISHES
    assert PUBLISH.body is PublishRequest


def test_answering_once_or_counting_what_the_route_does_not_declare_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="does not declare the Idempotency-Key header"):
        GET_ONE.once(APIGatewayHttpResolver(), IDENTITY, FlowIdQuery(id="df_1"), lambda: Response(200))
    with pytest.raises(TypeError, match="declares no metric"):
        GET_ONE.counted(Response(200))


def test_a_change_answers_with_the_flow_and_declares_its_conflicts() -> None:
    assert PUBLISH.ok == {200: (FlowView,)}
    assert set(PUBLISH.errors) == {404, 409, 422}
    assert PUBLISH.headers == ("If-Match", "Idempotency-Key")


def test_a_module_states_its_routes_in_order() -> None:
    module = type("Module", (), {"A": HEALTH, "B": GET_ONE, "other": 1})
    assert declared(module) == [HEALTH, GET_ONE]
