"""Query strings of the paged listings: flows, a flow's versions, its history, the tenant feed (see
web.queries)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema

from decision_flows.models.flow import FlowStatus
from decision_flows.models.identifiers import VERSION_RANGE, FlowId
from decision_flows.web.query_model import Cursor, QueryModel


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


def _instant(value: object) -> datetime:
    """An ISO 8601 date-time (or date) as an aware UTC datetime; one without an offset is UTC."""
    example = "an ISO 8601 date-time such as 2026-12-06T09:30:00Z"
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"must be {example}")
    try:
        moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows a lower-case "t" and "z"
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        moment + timedelta(milliseconds=1)  # the feed's key rounds up to the millisecond: it must exist
    except (ValueError, OverflowError):
        raise ValueError(f"must be {example}") from None
    return moment


Instant = Annotated[datetime, PlainValidator(_instant), WithJsonSchema({"type": "string", "format": "date-time"})]


class FeedQuery(QueryModel):
    """GET /history without ``id``: the tenant feed."""

    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Cursor | None = None
    since: Instant | None = None  # entries at or after it
