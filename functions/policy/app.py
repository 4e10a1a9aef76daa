"""GET and PUT /api/v1/decision-flows/policy: the tenant's review policy (approvals, emergency path)."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.identity import Role
from decision_flows.models.policy import Policy
from decision_flows.models.policy_request import PolicyRequest
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.responses import json_response
from decision_flows.web.routes import IF_MATCH, Route
from decision_flows.web.views.policy import PolicyView
from decision_flows.wiring import policy_service

POLICY = "/api/v1/decision-flows/policy"
READ = Route.get(
    POLICY, "The tenant's review policy (the defaults until one is stored)", role=Role.VIEWER, ok={200: (PolicyView,)}
)
REPLACE = Route.put(
    POLICY,
    "Replace the tenant's review policy at its rowVersion",
    role=Role.ADMIN,
    body=PolicyRequest,
    ok={200: (PolicyView,)},
    errors=(409,),
    headers=IF_MATCH,
)
app = new_resolver()


def policy_response(policy: Policy) -> Response[str]:
    return json_response(200, PolicyView.of(policy), {"ETag": f'"{policy.row_version}"'})


@READ.handles(app)
def read_policy() -> Response[str]:
    identity = READ.admit(app.current_event)
    return policy_response(policy_service().get(identity))


@REPLACE.handles(app)
def replace_policy() -> Response[str]:
    identity = REPLACE.admit(app.current_event)
    request = REPLACE.read_body(app.current_event, PolicyRequest)
    return policy_response(policy_service().put(identity, request, REPLACE.if_match(app.current_event)))


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
