"""GET /api/v1/decision-flows/live?key=&subject=: the config runtime callers execute, from the live cache.

One small read per request (the key's live pointer); the version's config comes from memory once
this instance has read it. During a staged rollout ``subject`` picks champion or challenger. A caller
that polls with If-None-Match gets 304 while its version is still the one served.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.domain.live import assign, etag_of
from decision_flows.models.identity import Role
from decision_flows.observability import count_served
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.inputs import matches
from decision_flows.web.queries import LiveQuery
from decision_flows.web.responses import counted, json_response
from decision_flows.web.routes import Route
from decision_flows.web.views.live import LiveView
from decision_flows.wiring import live_service

LIVE = Route(
    "GET",
    "/api/v1/decision-flows/live",
    "What runtime callers execute for a flow key (304 while If-None-Match names it)",
    Role.VIEWER,
    {200: (LiveView,), 304: ()},
    errors=(404,),
    query=(LiveQuery,),
    headers=("If-None-Match",),
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
        return counted("LiveReads", Response(304, headers={"ETag": etag}))
    config = live_service().config(entry, assigned.version)
    view = LiveView.of(entry, assigned.version, assigned.published_at, assigned.role, config)
    return counted("LiveReads", json_response(200, view, {"ETag": etag}))


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
