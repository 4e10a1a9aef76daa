"""GET /api/v1/decision-flows/versions: a flow's published versions, or one with its snapshot."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.identity import Role
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.listing_queries import VersionsQuery
from decision_flows.web.responses import json_response
from decision_flows.web.routes import Route
from decision_flows.web.views.body import PaginationView
from decision_flows.web.views.versions import VersionDetailView, VersionListItemView, VersionListView
from decision_flows.wiring import flow_service

VERSIONS = Route.get(
    "/api/v1/decision-flows/versions",
    "A flow's versions, oldest first, or one version with its snapshot (&version=)",
    role=Role.EDITOR,
    ok={200: (VersionListView, VersionDetailView)},
    errors=(404,),
    query=(VersionsQuery,),
)
app = new_resolver()


@VERSIONS.handles(app)
def versions() -> Response[str]:
    identity = VERSIONS.admit(app.current_event)
    query = VERSIONS.read_query(app.current_event, VersionsQuery)
    if query.version is not None:
        version = flow_service().version(identity, query.id, query.version)
        return json_response(200, VersionDetailView.of_version(query.id, version))
    page = flow_service().versions(identity, query.id, query.limit, query.cursor)
    return json_response(
        200,
        VersionListView(
            flow_id=query.id,
            versions=[VersionListItemView.of_version(version) for version in page.items],
            pagination=PaginationView.of(page, query.limit),
        ),
    )


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
