"""The query string of GET /diff: which two states of a flow to compare (see web.queries)."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from decision_flows.models.identifiers import FlowId
from decision_flows.web.query_model import QueryModel

# A state of a flow: a version number, the draft, what is live, or a staged rollout's challenger.
StateRef = Annotated[str, Field(pattern=r"^(draft|live|challenger|[1-9][0-9]{0,17})$")]


class DiffQuery(QueryModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    id: FlowId
    from_: StateRef = Field(default="live", alias="from")
    to: StateRef = "draft"
    include: Literal["summary"] | None = None
