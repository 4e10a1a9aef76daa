"""POST /api/v1/decision-flows/publish: snapshot the draft as the next version and make it live."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.models.requests import PublishRequest
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.idempotency import idempotent
from decision_flows.web.responses import counted, dry_run_response, flow_response
from decision_flows.web.routes import IDEMPOTENT, changing
from decision_flows.wiring import flow_service

PUBLISH = changing(
    "POST",
    "/api/v1/decision-flows/publish",
    "Publish the draft as the next version and make it live",
    Role.EDITOR,
    PublishRequest,
    IDEMPOTENT,
    dry_run=True,
)
app = new_resolver()


@PUBLISH.handles(app)
def publish() -> Response[str]:
    identity = PUBLISH.admit(app.current_event)
    request = PUBLISH.read_body(app.current_event, PublishRequest)
    expected_row_version = PUBLISH.if_match(app.current_event)
    if request.dry_run:
        return dry_run_response(flow_service().preview(identity, request, expected_row_version))
    return idempotent(
        app.current_event,
        identity,
        request,
        app.lambda_context,
        lambda: counted("Publishes", flow_response(flow_service().publish(identity, request, expected_row_version))),
    )


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
