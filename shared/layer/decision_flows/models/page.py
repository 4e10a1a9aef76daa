"""One page of a keyset-paginated listing, as the access layer hands it to the domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from decision_flows.models.flow import Flow, PublishedVersion


class Page[T](BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None


# The pages the access layer builds, parametrised once (history's is models.history.ChangePage, so that
# only the functions that read history load its models). pydantic keeps a parametrised generic only in
# a weak cache, so `Page[Flow](...)` written inside a call was rebuilt (≈1 ms) whenever the garbage
# collector had freed the class (bench/overhead.py found it in 1 of 4 version listings).
FlowPage = Page[Flow]
VersionPage = Page[PublishedVersion]
