"""The base of every query-string model, apart from the route families' models (web.queries,
web.listing_queries, web.diff_query, web.change_queries) so that a function defines only its own."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Cursor = Annotated[str, Field(min_length=1, max_length=2048)]


class QueryModel(BaseModel):
    # Unknown parameters are ignored, as HTTP caches and proxies may add their own.
    # Built on first use, not at import, as the request bodies are (models.request_body.RequestBody).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
