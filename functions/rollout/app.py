"""POST /api/v1/decision-flows/rollout, /rollout/promote and /rollout/abort: steer a staged rollout.

A rollout starts with POST /publish and ``rollout: {percent, include?, exclude?}`` (functions/publish).
Each step here is one conditional write of the flow, guarded by rowVersion (body or If-Match), and
safe to retry with an Idempotency-Key. They never change the draft, so they answer the flow without
``draftConfig``.
"""

from __future__ import annotations

from collections.abc import Callable

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from decision_flows.models.flow import Flow
from decision_flows.models.identity import Identity, Role
from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest
from decision_flows.observability import Metric, count
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.responses import flow_response
from decision_flows.web.routes import IDEMPOTENT, WRITE_ERRORS, Route
from decision_flows.web.views.flows import FLOW
from decision_flows.wiring import change_service, flow_service

ROLLOUTS = "/api/v1/decision-flows/rollout"


def rollout_step(path: str, summary: str, body: type[BaseModel], metric: Metric) -> Route:
    """A step of a rollout: a change to the flow at its rowVersion, retried safely with its key."""
    return Route.post(
        path, summary, role=Role.EDITOR, body=body, ok=FLOW, errors=WRITE_ERRORS, headers=IDEMPOTENT, metric=metric
    )


CHANGE = rollout_step(
    ROLLOUTS, "Change the challenger's share of subjects or its overrides", RolloutRequest, Metric.ROLLOUTS_CHANGED
)
PROMOTE = rollout_step(
    f"{ROLLOUTS}/promote", "Make the challenger live for everyone", PromoteRequest, Metric.ROLLOUTS_PROMOTED
)
ABORT = rollout_step(f"{ROLLOUTS}/abort", "Serve the champion to everyone again", AbortRequest, Metric.ROLLOUTS_ABORTED)
app = new_resolver()


def step[M: BaseModel](route: Route, model: type[M], write: Callable[[Identity, M, int | None], Flow]) -> Response[str]:
    identity = route.admit(app.current_event)
    request = route.read_body(app.current_event, model)
    if_match = route.if_match(app.current_event)
    return route.once(
        app, identity, request, lambda: flow_response(write(identity, request, if_match), with_config=False)
    )


@CHANGE.handles(app)
def change() -> Response[str]:
    return step(CHANGE, RolloutRequest, flow_service().change_rollout)


@PROMOTE.handles(app)
def promote() -> Response[str]:
    return step(PROMOTE, PromoteRequest, flow_service().promote)


@ABORT.handles(app)
def abort() -> Response[str]:
    return step(ABORT, AbortRequest, abort_or_emergency)


def abort_or_emergency(identity: Identity, request: AbortRequest, if_match: int | None) -> Flow:
    """An abort with ``emergency`` is an admin's, made past review and recorded as a change request."""
    if request.emergency is None:
        return flow_service().abort(identity, request, if_match)
    flow = change_service().emergency(identity, request, if_match)
    count(Metric.EMERGENCY_CHANGES)
    return flow


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
