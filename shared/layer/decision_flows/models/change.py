"""Change requests ("four eyes"): one gated call, frozen, reviewed, then applied at most once (their
id, actions and states: models.change_terms)."""

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from decision_flows.models.change_terms import OPEN_STATES, ChangeAction, ChangeState, ScheduleStatus
from decision_flows.models.flow import EmergencyNote, FlowAction, StoredModel


@dataclass(frozen=True)
class ChangeListing:
    """Which of a flow's requests to list: those in ``state`` (any when None) as of ``now``."""

    tenant_id: str
    flow_id: str
    state: ChangeState | None
    now: str


class Review(StoredModel):
    by: str
    at: str
    comment: str | None = None


class ChangeBase(StoredModel):
    """What the flow served when the request was made: applying checks it is still so."""

    live_version: int | None = None
    challenger_version: int | None = None
    basis_points: int | None = None


class Blocked(StoredModel):
    code: str
    detail: str


class Schedule(StoredModel):
    """When an approved request applies on its own: ``run_at`` UTC (models' timestamp format)."""

    run_at: str
    status: ScheduleStatus = ScheduleStatus.PENDING
    scheduled_by: str
    reason: str | None = None  # why it was suspended: the problem's code, or MISSED

    def ended(self) -> "Schedule":
        """The schedule of a request closed before it fired: cancelled if pending, else as it was."""
        if self.status != ScheduleStatus.PENDING:
            return self
        return self.model_copy(update={"status": ScheduleStatus.CANCELLED})


class EmergencyRecord(EmergencyNote):
    """An emergency change's request: applied at once, ``reviewed`` once it holds its approvals."""

    reviewed: bool = False


class ChangeRequest(StoredModel):
    change_id: str
    tenant_id: str
    flow_id: str
    action: ChangeAction
    params: str  # canonical JSON: the body of the direct call (its numbers may be decimals)
    title: str | None = None
    description: str | None = None
    state: ChangeState
    author: str
    created_at: str
    expires_at: str
    base: ChangeBase
    content_hash: str
    config: str | None = None  # a publish's or rollback's config, canonical JSON: what goes live
    diff_summary: str | None = None  # JSON: the dry run's diff summary
    required: int
    approvals: list[Review] = Field(default_factory=list)
    rejections: list[Review] = Field(default_factory=list)
    blocked: Blocked | None = None
    cancelled_by: str | None = None
    applied_at: str | None = None
    applied_by: str | None = None
    result: dict[str, Any] | None = None
    emergency: EmergencyRecord | None = None
    schedule: Schedule | None = None
    row_version: int = 1
    # What the last write did, by whom and when: the stream consumer's history entry for it.
    last_event: FlowAction = FlowAction.CHANGE_REQUESTED
    last_actor: str
    updated_at: str
    last_comment: str | None = None

    @property
    def approvals_needed(self) -> int:
        """An emergency change is reviewed by someone even when the policy asks for no approval."""
        return max(self.required, 1) if self.emergency is not None else self.required

    @property
    def schedule_pending(self) -> bool:
        return self.schedule is not None and self.schedule.status == ScheduleStatus.PENDING

    def state_at(self, now: str) -> ChangeState:
        """The state as a reader sees it at ``now``: an open request past its expiresAt is expired,
        unless a pending schedule holds it (it applies or suspends at its runAt)."""
        expired = self.state in OPEN_STATES and now >= self.expires_at and not self.schedule_pending
        return ChangeState.EXPIRED if expired else self.state
