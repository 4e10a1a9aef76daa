"""GET /api/v1/decision-flows/live?key=&subject=: the config runtime callers execute, from its live pointer.

One small read per request (the key's live pointer); the version's config comes from memory once
this instance has read it. During a staged rollout ``subject`` picks champion or challenger. A caller
that polls with If-None-Match gets 304 while its version is still the one served.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from decision_flows.domain.live import assign, etag_of
from decision_flows.models.identity import Role
from decision_flows.observability import Metric, count_served
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.inputs import matches
from decision_flows.web.queries import LiveQuery
from decision_flows.web.responses import json_response
from decision_flows.web.routes import Route
from decision_flows.web.views.live import LiveView
from decision_flows.wiring import live_service

LIVE = Route.get(
    "/api/v1/decision-flows/live",
    "What runtime callers execute for a flow key (304 while If-None-Match names it)",
    role=Role.VIEWER,
    ok={200: (LiveView,), 304: ()},
    errors=(404,),
    query=(LiveQuery,),
    headers=("If-None-Match",),
    metric=Metric.LIVE_READS,
)
app = new_resolver()


@LIVE.handles(app)
def live() -> Response[str]:
    identity = LIVE.admit(app.current_event)
    query = LIVE.read_query(app.current_event, LiveQuery)
    entry = live_service().live(identity, query.key)
    assigned = assign(entry, query.subject)
    etag = etag_of(entry, assigned.version)
    count_served(entry.flow_id, assigned.version, assigned.role)
    if matches(LIVE.header(app.current_event, "If-None-Match"), etag):
        return LIVE.counted(Response(304, headers={"ETag": etag}))
    config = live_service().config(entry, assigned.version)
    view = LiveView.of(entry, assigned.version, assigned.published_at, assigned.role, config)
    return LIVE.counted(json_response(200, view, {"ETag": etag}))


lambda_handler = entrypoint(app)
