"""Query strings of the read routes. Values arrive as strings, so integers are parsed (lax mode)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from decision_flows.models.flow import FlowStatus
from decision_flows.models.identifiers import VERSION_RANGE, FlowId, FlowKey

Cursor = Annotated[str, Field(min_length=1, max_length=2048)]


class QueryModel(BaseModel):
    # Unknown parameters are ignored, as HTTP caches and proxies may add their own.
    # Built on first use, not at import, as the request bodies are (models.request_body.RequestBody).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class FlowIdQuery(QueryModel):
    id: FlowId


class FlowKeyQuery(QueryModel):
    key: FlowKey


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


class LiveQuery(QueryModel):
    key: FlowKey
    # Who is asking (a customer id, say): during a staged rollout it picks champion or challenger, sticky.
    subject: Annotated[str, Field(min_length=1, max_length=256)] | None = None


# A state of a flow: a version number, the draft, what is live, or a staged rollout's challenger.
StateRef = Annotated[str, Field(pattern=r"^(draft|live|challenger|[1-9][0-9]{0,17})$")]


class DiffQuery(QueryModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    id: FlowId
    from_: StateRef = Field(default="live", alias="from")
    to: StateRef = "draft"
    include: Literal["summary"] | None = None
