"""POST /api/v1/decision-flows/rollback: append a new version that restores an older one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.models.requests import RollbackRequest
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.idempotency import idempotent
from decision_flows.web.responses import counted, dry_run_response, flow_response
from decision_flows.web.routes import IDEMPOTENT, changing
from decision_flows.wiring import flow_service

ROLLBACK = changing(
    "POST",
    "/api/v1/decision-flows/rollback",
    "Roll back: append a version that restores an older one",
    Role.ADMIN,
    RollbackRequest,
    IDEMPOTENT,
    dry_run=True,
)
app = new_resolver()


@ROLLBACK.handles(app)
def rollback() -> Response[str]:
    identity = ROLLBACK.admit(app.current_event)
    request = ROLLBACK.read_body(app.current_event, RollbackRequest)
    expected_row_version = ROLLBACK.if_match(app.current_event)
    if request.dry_run:
        return dry_run_response(flow_service().preview(identity, request, expected_row_version))
    return idempotent(
        app.current_event,
        identity,
        request,
        app.lambda_context,
        lambda: counted("Rollbacks", flow_response(flow_service().rollback(identity, request, expected_row_version))),
    )


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
