"""POST, PUT and DELETE /api/v1/decision-flows: create a flow, edit its draft, delete it."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
from decision_flows.models.identity import Role
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.queries import FlowIdQuery
from decision_flows.web.responses import flow_response
from decision_flows.web.routes import IF_MATCH, WRITE_ERRORS, Route
from decision_flows.web.views.flows import FLOW, FlowView
from decision_flows.wiring import flow_service

FLOWS = "/api/v1/decision-flows"
CREATE = Route.post(
    FLOWS,
    "Create a flow",
    role=Role.EDITOR,
    body=CreateFlowRequest,
    ok={201: (FlowView,)},
    errors=(409, 422),
    headers=("Idempotency-Key",),
)
UPDATE = Route.put(
    FLOWS,
    "Edit a flow and its draft",
    role=Role.EDITOR,
    body=UpdateFlowRequest,
    ok=FLOW,
    errors=WRITE_ERRORS,
    headers=IF_MATCH,
)
DELETE = Route.delete(
    FLOWS,
    "Delete a flow, its versions and its key",
    role=Role.EDITOR,
    ok={204: ()},
    errors=(404, 409),
    query=(FlowIdQuery,),
    headers=IF_MATCH,
)
app = new_resolver()


@CREATE.handles(app)
def create_flow() -> Response[str]:
    identity = CREATE.admit(app.current_event)
    request = CREATE.read_body(app.current_event, CreateFlowRequest)

    def create() -> Response[str]:
        flow = flow_service().create(identity, request)
        return flow_response(flow, 201, {"Location": f"{FLOWS}?id={flow.id}"})

    return CREATE.once(app, identity, request, create)


@UPDATE.handles(app)
def update_flow() -> Response[str]:
    identity = UPDATE.admit(app.current_event)
    request = UPDATE.read_body(app.current_event, UpdateFlowRequest)
    return flow_response(flow_service().update(identity, request, UPDATE.if_match(app.current_event)))


@DELETE.handles(app)
def delete_flow() -> Response[str]:
    identity = DELETE.admit(app.current_event)
    flow_id = DELETE.read_query(app.current_event, FlowIdQuery).id
    flow_service().delete(identity, flow_id, DELETE.if_match(app.current_event))
    return Response(204)


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
