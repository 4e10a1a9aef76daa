"""POST /api/v1/decision-flows/rollback: append a new version that restores an older one."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.identity import Identity, Role
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.observability import Metric, count
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.responses import dry_run_response, flow_response
from decision_flows.web.routes import IDEMPOTENT, WRITE_ERRORS, Route
from decision_flows.web.views.flows import FLOW
from decision_flows.wiring import change_service, flow_service

ROLLBACK = Route.post(
    "/api/v1/decision-flows/rollback",
    "Roll back: append a version that restores an older one",
    role=Role.ADMIN,
    body=RollbackRequest,
    ok=FLOW,
    errors=WRITE_ERRORS,
    headers=IDEMPOTENT,
    dry_run=True,
    metric=Metric.ROLLBACKS,
)
app = new_resolver()


@ROLLBACK.handles(app)
def rollback() -> Response[str]:
    identity = ROLLBACK.admit(app.current_event)
    request = ROLLBACK.read_body(app.current_event, RollbackRequest)
    if_match = ROLLBACK.if_match(app.current_event)
    if request.dry_run:  # with or without an emergency: dry runs are free under any policy
        return dry_run_response(flow_service().preview_rollback(identity, request, if_match))
    if request.emergency is not None:
        return ROLLBACK.once(app, identity, request, lambda: emergency(identity, request, if_match))
    return ROLLBACK.once(
        app, identity, request, lambda: flow_response(flow_service().rollback(identity, request, if_match))
    )


def emergency(identity: Identity, request: RollbackRequest, if_match: int | None) -> Response[str]:
    flow = change_service().emergency(identity, request, if_match)
    count(Metric.EMERGENCY_CHANGES)
    return flow_response(flow)


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
