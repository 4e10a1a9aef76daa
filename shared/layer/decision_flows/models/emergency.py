"""The ``emergency`` a rollback or an abort may carry: apart from both so that each function defines it
with its own command and no other's."""

from typing import Annotated

from pydantic import Strict, StringConstraints

from decision_flows.models.request_body import RequestBody


class Emergency(RequestBody):
    """An admin's call made at once, past the review policy: only a rollback or an abort, which can
    only take a flow back to what was already live or published (the contract's Emergency changes)."""

    reason: Annotated[str, Strict(), StringConstraints(min_length=10, max_length=1000)]
    incident: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=200)] | None = None
