"""Query strings of the paged listings: flows, a flow's versions, its history (see web.queries)."""

from typing import Annotated, Literal

from pydantic import Field

from decision_flows.models.flow import FlowStatus
from decision_flows.models.identifiers import VERSION_RANGE, FlowId
from decision_flows.web.queries import Cursor, QueryModel


class ListFlowsQuery(QueryModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Cursor | None = None
    status: FlowStatus | None = None
    include: Literal["versions"] | None = None


class VersionsQuery(QueryModel):
    id: FlowId
    # Any integer of up to 18 digits (not a published version: 404); anything else is 400.
    version: Annotated[int, VERSION_RANGE] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Cursor | None = None


class HistoryQuery(QueryModel):
    id: FlowId
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Cursor | None = None
