"""POST, PUT and DELETE /api/v1/decision-flows: create a flow, edit its draft, delete it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.domain.pipeline import DEFAULT_DRAFT_CONFIG
from decision_flows.models.identity import Role
from decision_flows.models.queries import FlowIdQuery
from decision_flows.models.requests import CreateFlowRequest, UpdateFlowRequest
from decision_flows.web import inputs
from decision_flows.web.access import guard
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.idempotency import idempotent
from decision_flows.web.responses import flow_response
from decision_flows.wiring import flow_service

ROUTE = "/api/v1/decision-flows"
app = new_resolver()


@app.post(ROUTE)
def create_flow() -> Response[str]:
    identity = guard(app.current_event, Role.EDITOR)
    request = inputs.body(app.current_event, CreateFlowRequest)

    def create() -> Response[str]:
        flow = flow_service().create(identity, request)
        return flow_response(flow, 201, {"Location": f"{ROUTE}?id={flow.id}"})

    config = DEFAULT_DRAFT_CONFIG if request.draft_config is None else request.draft_config
    return idempotent(app.current_event, identity, request, app.lambda_context, create, lambda _: config)


@app.put(ROUTE)
def update_flow() -> Response[str]:
    identity = guard(app.current_event, Role.EDITOR)
    request = inputs.body(app.current_event, UpdateFlowRequest)
    return flow_response(flow_service().update(identity, request, inputs.if_match(app.current_event)))


@app.delete(ROUTE)
def delete_flow() -> Response[str]:
    identity = guard(app.current_event, Role.EDITOR)
    flow_id = inputs.parse(FlowIdQuery, inputs.query(app.current_event)).id
    flow_service().delete(identity, flow_id, inputs.if_match(app.current_event))
    return Response(204)


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
