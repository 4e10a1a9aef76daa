"""Query strings of the read routes. Values arrive as strings, so integers are parsed (lax mode).

The flow lookups' and the live read's; the listings' are web.listing_queries', the diff's
web.diff_query's, so that a function defines only the query models of its own routes.
"""

from typing import Annotated

from pydantic import Field

from decision_flows.models.identifiers import FlowId, FlowKey
from decision_flows.web.query_model import QueryModel


class FlowIdQuery(QueryModel):
    id: FlowId


class FlowKeyQuery(QueryModel):
    key: FlowKey


class LiveQuery(QueryModel):
    key: FlowKey
    # Who is asking (a customer id, say): during a staged rollout it picks champion or challenger, sticky.
    subject: Annotated[str, Field(min_length=1, max_length=256)] | None = None
