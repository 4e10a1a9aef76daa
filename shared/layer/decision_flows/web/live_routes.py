"""The runtime read routes' declarations (web.routes), for the OpenAPI document and the role tests.

functions/live serves them through web.runtime, without the HTTP resolver or pydantic, and names this
module (ROUTES_DECLARED_IN) instead of importing it: its models are the document's, not the handler's.
"""

from __future__ import annotations

from decision_flows.models.role import Role
from decision_flows.observability import Metric
from decision_flows.web.queries import FlowKeyQuery, LiveQuery
from decision_flows.web.routes import Route
from decision_flows.web.runtime import LIVE_PATH, STATE_PATH
from decision_flows.web.views.live import LiveStateView, LiveView

LIVE = Route.get(
    LIVE_PATH,
    "What runtime callers execute for a flow key (304 while If-None-Match names it)",
    role=Role.VIEWER,
    ok={200: (LiveView,), 304: ()},
    errors=(404,),
    query=(LiveQuery,),
    headers=("If-None-Match",),
    metric=Metric.LIVE_READS,
)
LIVE_STATE = Route.get(
    STATE_PATH,
    "A flow key's whole live state: champion, challenger, percent and overrides (304 while If-None-Match names it)",
    role=Role.VIEWER,
    ok={200: (LiveStateView,), 304: ()},
    errors=(404,),
    query=(FlowKeyQuery,),
    headers=("If-None-Match",),
    metric=Metric.LIVE_READS,
)
