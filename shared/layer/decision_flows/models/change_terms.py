"""The words of a change request: its id, actions and states, apart from the stored models
(models.change) so that the handlers' inits define none of those (their requests build them)."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict, StringConstraints

# Defined beside the flow, whose rollout plan's steps have one each: every function loads that module.
from decision_flows.models.flow import ScheduleStatus as ScheduleStatus

# cr_<12 hex of the creation time in ms><8 random hex>_<flowId>: the flow names the item's partition
# (a request is an item beside its flow), the time orders a flow's requests newest first.
ChangeId = Annotated[
    str, Strict(), StringConstraints(min_length=25, max_length=88, pattern=r"^cr_[0-9a-f]{20}_[A-Za-z0-9_-]{1,64}$")
]
EXPIRES_AFTER_DAYS = 7


class ChangeAction(StrEnum):
    PUBLISH = "publish"
    ROLLBACK = "rollback"
    ROLLOUT = "rollout"
    PROMOTE = "promote"
    ABORT = "abort"
    UPDATE = "update"
    DELETE = "delete"


class ChangeState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # never stored: a pending or approved request read after its expiresAt
    UNREVIEWED = "unreviewed"  # never stored, a listing's filter: emergency changes awaiting approval


OPEN_STATES = (ChangeState.PENDING, ChangeState.APPROVED)


# A schedule's runAt: RFC 3339 with its offset (Z or ±hh:mm), so that no time zone is guessed.
RunAt = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|z|[+-]\d{2}:\d{2})$"),
    Field(json_schema_extra={"format": "date-time"}),
]
