"""POST /api/v1/decision-flows/publish: snapshot the draft as the next version and make it live."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.identity import Role
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.observability import Metric
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.responses import dry_run_response, flow_response
from decision_flows.web.routes import IDEMPOTENT, WRITE_ERRORS, Route
from decision_flows.web.views.flows import FLOW
from decision_flows.wiring import flow_service

PUBLISH = Route.post(
    "/api/v1/decision-flows/publish",
    "Publish the draft as the next version and make it live",
    role=Role.EDITOR,
    body=PublishRequest,
    ok=FLOW,
    errors=WRITE_ERRORS,
    headers=IDEMPOTENT,
    dry_run=True,
    metric=Metric.PUBLISHES,
)
app = new_resolver()


@PUBLISH.handles(app)
def publish() -> Response[str]:
    identity = PUBLISH.admit(app.current_event)
    request = PUBLISH.read_body(app.current_event, PublishRequest)
    if_match = PUBLISH.if_match(app.current_event)
    if request.dry_run:
        return dry_run_response(flow_service().preview_publish(identity, request, if_match))
    return PUBLISH.once(
        app, identity, request, lambda: flow_response(flow_service().publish(identity, request, if_match))
    )


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
