"""Query strings of the read routes. Values arrive as strings, so integers are parsed (lax mode).

The flow lookups' and the live read's; the listings' are web.listing_queries', the diff's
web.diff_query's, so that a function defines only the query models of its own routes.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from decision_flows.models.identifiers import FlowId, FlowKey

Cursor = Annotated[str, Field(min_length=1, max_length=2048)]


class QueryModel(BaseModel):
    # Unknown parameters are ignored, as HTTP caches and proxies may add their own.
    # Built on first use, not at import, as the request bodies are (models.request_body.RequestBody).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class FlowIdQuery(QueryModel):
    id: FlowId


class FlowKeyQuery(QueryModel):
    key: FlowKey


class LiveQuery(QueryModel):
    key: FlowKey
    # Who is asking (a customer id, say): during a staged rollout it picks champion or challenger, sticky.
    subject: Annotated[str, Field(min_length=1, max_length=256)] | None = None
