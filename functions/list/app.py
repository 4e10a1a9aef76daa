"""GET /api/v1/decision-flows: list a tenant's flows, or one flow with ?id=. Also the health check."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.models.queries import FlowIdQuery, ListFlowsQuery
from decision_flows.models.responses import FlowListView, FlowView, PaginationView
from decision_flows.web import inputs
from decision_flows.web.access import guard
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.responses import flow_response, json_response
from decision_flows.wiring import flow_service

app = new_resolver()


@app.get("/api/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/decision-flows")
def list_or_get_flows() -> Response[str]:
    identity = guard(app.current_event, Role.VIEWER)
    params = inputs.query(app.current_event)
    if "id" in params:
        return flow_response(flow_service().get(identity, inputs.parse(FlowIdQuery, params).id))
    query = inputs.parse(ListFlowsQuery, params)
    page = flow_service().list(identity, query.status, query.limit, query.cursor)
    with_versions = query.include == "versions"
    return json_response(
        200,
        FlowListView(
            data=[FlowView.of(flow, with_config=False, with_versions=with_versions) for flow in page.items],
            pagination=PaginationView.of(page, query.limit),
        ),
    )


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
