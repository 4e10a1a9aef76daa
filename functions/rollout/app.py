"""POST /api/v1/decision-flows/rollout, /rollout/promote and /rollout/abort: steer a staged rollout.

A rollout starts with POST /publish and ``rollout: {percent}`` (functions/publish). Each step here is
one conditional write of the flow, guarded by rowVersion (body or If-Match), and safe to retry with
an Idempotency-Key. They never change the draft, so they answer the flow without ``draftConfig``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from decision_flows.models.flow import Flow
from decision_flows.models.identity import Identity, Role
from decision_flows.models.requests import AbortRequest, PromoteRequest, RolloutRequest
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.idempotency import idempotent
from decision_flows.web.responses import counted, flow_response
from decision_flows.web.routes import IDEMPOTENT, Route, changing
from decision_flows.wiring import flow_service

ROLLOUTS = "/api/v1/decision-flows/rollout"
CHANGE = changing(
    "POST", ROLLOUTS, "Change the challenger's share of subjects", Role.EDITOR, RolloutRequest, IDEMPOTENT
)
PROMOTE = changing(
    "POST", f"{ROLLOUTS}/promote", "Make the challenger live for everyone", Role.EDITOR, PromoteRequest, IDEMPOTENT
)
ABORT = changing(
    "POST", f"{ROLLOUTS}/abort", "Serve the champion to everyone again", Role.EDITOR, AbortRequest, IDEMPOTENT
)
app = new_resolver()


def step[M: BaseModel](
    route: Route, model: type[M], write: Callable[[Identity, M, int | None], Flow], metric: str
) -> Response[str]:
    identity = route.admit(app.current_event)
    request = route.read_body(app.current_event, model)
    if_match = route.if_match(app.current_event)
    return idempotent(
        app.current_event,
        identity,
        request,
        app.lambda_context,
        lambda: counted(metric, flow_response(write(identity, request, if_match), with_config=False)),
    )


@CHANGE.handles(app)
def change() -> Response[str]:
    return step(CHANGE, RolloutRequest, flow_service().change_rollout, "RolloutsChanged")


@PROMOTE.handles(app)
def promote() -> Response[str]:
    return step(PROMOTE, PromoteRequest, flow_service().promote, "RolloutsPromoted")


@ABORT.handles(app)
def abort() -> Response[str]:
    return step(ABORT, AbortRequest, flow_service().abort, "RolloutsAborted")


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
