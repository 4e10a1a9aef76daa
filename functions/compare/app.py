"""GET /api/v1/decision-flows/diff and POST /validate: compare two states of a flow, check a config.

Both only read: nothing here writes to DynamoDB but the rate limit every route counts.
"""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.identity import Role
from decision_flows.models.validation import ValidateRequest
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.diff_query import DiffQuery
from decision_flows.web.responses import json_response
from decision_flows.web.routes import Route
from decision_flows.web.views.compare import DiffView, ValidationView
from decision_flows.wiring import compare_service

DIFF = Route.get(
    "/api/v1/decision-flows/diff",
    "What changed between two states of a flow: versions, draft, live (default: live to draft)",
    role=Role.EDITOR,
    ok={200: (DiffView,)},
    errors=(404,),
    query=(DiffQuery,),
)
VALIDATE = Route.post(
    "/api/v1/decision-flows/validate",
    "Validate and lint a config, or a flow's stored draft, without storing anything",
    role=Role.EDITOR,
    ok={200: (ValidationView,)},
    errors=(404,),
    body=ValidateRequest,
)
app = new_resolver()


@DIFF.handles(app)
def diff() -> Response[str]:
    identity = DIFF.admit(app.current_event)
    query = DIFF.read_query(app.current_event, DiffQuery)
    found = compare_service().diff(identity, query.id, query.from_, query.to, with_patch=query.include is None)
    return json_response(200, DiffView.of(found))


@VALIDATE.handles(app)
def validate_config() -> Response[str]:
    identity = VALIDATE.admit(app.current_event)
    request = VALIDATE.read_body(app.current_event, ValidateRequest)
    if request.id is not None:
        return json_response(200, ValidationView.of(compare_service().validate_draft(identity, request.id)))
    # Imported on first use, as compare_service() imports the service: the init phase builds the routes
    # and their views; the pipeline's and the compare's code loads with the first request that runs them.
    from decision_flows.domain.compare import validate

    return json_response(200, ValidationView.of(validate(request.draft_config)))


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
