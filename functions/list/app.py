"""GET /api/v1/decision-flows: list a tenant's flows, or one flow by ?id= or ?key=. Also the health check."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.domain.errors import InvalidRequest
from decision_flows.models.identity import Role
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.listing_queries import ListFlowsQuery
from decision_flows.web.queries import FlowIdQuery, FlowKeyQuery
from decision_flows.web.responses import flow_response, json_response
from decision_flows.web.routes import Route
from decision_flows.web.views.body import PaginationView
from decision_flows.web.views.flow_list import FlowListView, HealthView
from decision_flows.web.views.flows import FlowView
from decision_flows.wiring import flow_service, store_probe

HEALTH = Route.get(
    "/api/v1/health",
    "Health check: the API is up and DynamoDB answers",
    role=None,
    ok={200: (HealthView,)},
    errors=(503,),
)
LIST_OR_GET = Route.get(
    "/api/v1/decision-flows",
    "List flows (active, draft, paused, archived; newest first), or one flow with ?id= or ?key=",
    role=Role.VIEWER,
    ok={200: (FlowListView, FlowView)},
    errors=(404,),
    query=(ListFlowsQuery, FlowIdQuery, FlowKeyQuery),
)
app = new_resolver()


@HEALTH.handles(app)
def health() -> Response[str]:
    store_probe().check()  # 503 STORE_BUSY when DynamoDB does not answer
    return json_response(200, HealthView())


@LIST_OR_GET.handles(app)
def list_or_get_flows() -> Response[str]:
    identity = LIST_OR_GET.admit(app.current_event)
    named = {"id", "key"} & set(app.current_event.query_string_parameters or {})
    if len(named) > 1:
        raise InvalidRequest("VALIDATION_ERROR", "Name one flow: by id or by key, not both.")
    if "id" in named:
        flow_id = LIST_OR_GET.read_query(app.current_event, FlowIdQuery).id
        return flow_response(flow_service().get(identity, flow_id))
    if "key" in named:
        key = LIST_OR_GET.read_query(app.current_event, FlowKeyQuery).key
        return flow_response(flow_service().get_by_key(identity, key))
    query = LIST_OR_GET.read_query(app.current_event, ListFlowsQuery)
    page = flow_service().list(identity, query.status, query.limit, query.cursor)
    with_versions = query.include == "versions"
    return json_response(
        200,
        FlowListView(
            data=[FlowView.of(flow, with_config=False, with_versions=with_versions) for flow in page.items],
            pagination=PaginationView.of(page, query.limit),
        ),
    )


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
