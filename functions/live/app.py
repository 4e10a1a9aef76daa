"""GET /api/v1/decision-flows/live?key=: the config runtime callers execute, served from the live cache."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.models.queries import LiveQuery
from decision_flows.models.responses import LiveView
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.responses import counted, json_response
from decision_flows.web.routes import reading
from decision_flows.wiring import live_service

LIVE = reading(
    "/api/v1/decision-flows/live", "What runtime callers execute for a flow key", Role.VIEWER, (LiveView,), LiveQuery
)
app = new_resolver()


@LIVE.handles(app)
def live() -> Response[str]:
    identity = LIVE.admit(app.current_event)
    query = LIVE.read_query(app.current_event, LiveQuery)
    return counted("LiveReads", json_response(200, LiveView.of(live_service().live(identity, query.key))))


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
