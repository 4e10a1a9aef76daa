"""POST /api/v1/decision-flows/rollback: append a new version that restores an older one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.models.requests import RollbackRequest
from decision_flows.web import inputs
from decision_flows.web.access import guard
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.idempotency import idempotent
from decision_flows.web.responses import counted, flow_response, live_config
from decision_flows.wiring import flow_service

app = new_resolver()


@app.post("/api/v1/decision-flows/rollback")
def rollback() -> Response[str]:
    identity = guard(app.current_event, Role.ADMIN)
    request = inputs.body(app.current_event, RollbackRequest)
    expected_row_version = inputs.if_match(app.current_event)
    return idempotent(
        app.current_event,
        identity,
        request,
        app.lambda_context,
        lambda: counted("Rollbacks", flow_response(flow_service().rollback(identity, request, expected_row_version))),
        lambda flow: live_config(identity, flow),
    )


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
