"""Query strings of GET /changes: one request by id, a flow's requests by state, or the tenant's
unreviewed emergencies (state=unreviewed without flowId)."""

from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from decision_flows.models.change_terms import ChangeId, ChangeState
from decision_flows.models.identifiers import FlowId
from decision_flows.web.query_model import Cursor, QueryModel


class ChangeIdQuery(QueryModel):
    id: ChangeId


class ChangeListQuery(QueryModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    flow_id: FlowId | None = Field(default=None, alias="flowId")
    state: ChangeState | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Cursor | None = None

    @model_validator(mode="after")
    def _across_flows_only_unreviewed(self) -> Self:
        # Only the unreviewed emergencies have an index across flows (a listing of any other state
        # would read the whole table).
        if self.flow_id is None and self.state != ChangeState.UNREVIEWED:
            raise ValueError("flowId is required, except with state=unreviewed (the tenant's unreviewed emergencies)")
        return self
