"""Response bodies of GET /flows and the health check: only ListFlowsFunction answers them."""

from typing import Literal

from decision_flows.web.views.body import PaginationView, ResponseBody
from decision_flows.web.views.flows import FlowView


class HealthView(ResponseBody):
    """The API is up and DynamoDB answers (without credentials; 503 STORE_BUSY when the store does not)."""

    status: Literal["ok"] = "ok"


class FlowListView(ResponseBody):
    data: list[FlowView]
    pagination: PaginationView
