"""POST, PUT and DELETE /api/v1/decision-flows: create a flow, edit its draft, delete it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.models.requests import CreateFlowRequest, UpdateFlowRequest
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.idempotency import idempotent
from decision_flows.web.queries import FlowIdQuery
from decision_flows.web.responses import flow_response
from decision_flows.web.routes import IF_MATCH, Route, changing
from decision_flows.web.views.flows import FlowView
from decision_flows.wiring import flow_service

FLOWS = "/api/v1/decision-flows"
CREATE = Route(
    "POST",
    FLOWS,
    "Create a flow",
    Role.EDITOR,
    {201: (FlowView,)},
    errors=(409, 422),
    body=CreateFlowRequest,
    headers=("Idempotency-Key",),
)
UPDATE = changing("PUT", FLOWS, "Edit a flow and its draft", Role.EDITOR, UpdateFlowRequest, IF_MATCH)
DELETE = Route(
    "DELETE",
    FLOWS,
    "Delete a flow, its versions and its key",
    Role.EDITOR,
    {204: ()},
    errors=(404, 409),
    query=(FlowIdQuery,),
    headers=IF_MATCH,
)
app = new_resolver()


@CREATE.handles(app)
def create_flow() -> Response[str]:
    identity = CREATE.admit(app.current_event)
    request = CREATE.read_body(app.current_event, CreateFlowRequest)

    def create() -> Response[str]:
        flow = flow_service().create(identity, request)
        return flow_response(flow, 201, {"Location": f"{FLOWS}?id={flow.id}"})

    return idempotent(app.current_event, identity, request, app.lambda_context, create)


@UPDATE.handles(app)
def update_flow() -> Response[str]:
    identity = UPDATE.admit(app.current_event)
    request = UPDATE.read_body(app.current_event, UpdateFlowRequest)
    return flow_response(flow_service().update(identity, request, UPDATE.if_match(app.current_event)))


@DELETE.handles(app)
def delete_flow() -> Response[str]:
    identity = DELETE.admit(app.current_event)
    flow_id = DELETE.read_query(app.current_event, FlowIdQuery).id
    flow_service().delete(identity, flow_id, DELETE.if_match(app.current_event))
    return Response(204)


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
