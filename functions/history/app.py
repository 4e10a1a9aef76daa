"""GET /api/v1/decision-flows/history: a flow's change history with ?id=, or without it the tenant
feed (every flow's entries, deleted flows' included); newest first, paginated."""

from __future__ import annotations

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response

from decision_flows.models.identity import Identity, Role
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.listing_queries import FeedQuery, HistoryQuery
from decision_flows.web.responses import json_response
from decision_flows.web.routes import Route
from decision_flows.web.views.body import PaginationView
from decision_flows.web.views.history import ChangeEntryView, FeedView, HistoryView
from decision_flows.wiring import history_service

HISTORY = Route.get(
    "/api/v1/decision-flows/history",
    "A flow's change history with ?id=, or the tenant feed across flows without it; newest first",
    role=Role.EDITOR,
    ok={200: (HistoryView, FeedView)},
    errors=(404,),
    query=(HistoryQuery, FeedQuery),
)
app = new_resolver()


@HISTORY.handles(app)
def history() -> Response[str]:
    identity = HISTORY.admit(app.current_event)
    if "id" not in (app.current_event.query_string_parameters or {}):
        return _feed(identity)
    query = HISTORY.read_query(app.current_event, HistoryQuery)
    page = history_service().history(identity, query.id, query.limit, query.cursor)
    return json_response(
        200,
        HistoryView(
            flow_id=query.id,
            data=[ChangeEntryView.of(entry) for entry in page.items],
            pagination=PaginationView.of(page, query.limit),
        ),
    )


def _feed(identity: Identity) -> Response[str]:
    query = HISTORY.read_query(app.current_event, FeedQuery)
    page = history_service().feed(identity, query.since, query.limit, query.cursor)
    return json_response(
        200,
        FeedView(
            data=[ChangeEntryView.of(entry) for entry in page.items], pagination=PaginationView.of(page, query.limit)
        ),
    )


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
