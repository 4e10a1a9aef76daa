"""GET /api/v1/decision-flows/history: a flow's change history, newest first, paginated."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.models.identity import Role
from decision_flows.web.api import logger, new_resolver, publish_metrics
from decision_flows.web.queries import HistoryQuery
from decision_flows.web.responses import json_response
from decision_flows.web.routes import reading
from decision_flows.web.views.body import PaginationView
from decision_flows.web.views.history import ChangeEntryView, HistoryView
from decision_flows.wiring import history_service

HISTORY = reading(
    "/api/v1/decision-flows/history", "A flow's change history, newest first", Role.EDITOR, (HistoryView,), HistoryQuery
)
app = new_resolver()


@HISTORY.handles(app)
def history() -> Response[str]:
    identity = HISTORY.admit(app.current_event)
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


@publish_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
