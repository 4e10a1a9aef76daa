"""Query strings of GET /changes: one request by id, or a flow's requests by state."""

from typing import Annotated

from pydantic import ConfigDict, Field

from decision_flows.models.change_terms import ChangeId, ChangeState
from decision_flows.models.identifiers import FlowId
from decision_flows.web.query_model import Cursor, QueryModel


class ChangeIdQuery(QueryModel):
    id: ChangeId


class ChangeListQuery(QueryModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    flow_id: FlowId = Field(alias="flowId")
    state: ChangeState | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Cursor | None = None
