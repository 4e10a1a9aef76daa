"""Response bodies of /changes: change requests as the contract shows them."""

import json
from typing import TYPE_CHECKING, Any, Self

from decision_flows.models.change_terms import ChangeState
from decision_flows.web.views.body import NullableTimestamp, PaginationView, ResponseBody, Timestamp
from decision_flows.web.views.flows import FlowView

if TYPE_CHECKING:
    from decision_flows.models.change import ChangeRequest  # built by the service, not at init


class ReviewView(ResponseBody):
    by: str
    at: Timestamp
    comment: str | None


class BaseView(ResponseBody):
    live_version: int | None
    challenger_version: int | None
    percent: float | None


class BlockedView(ResponseBody):
    code: str
    detail: str


class EmergencyChangeView(ResponseBody):
    reason: str
    incident: str | None
    reviewed: bool


class ScheduleView(ResponseBody):
    run_at: Timestamp
    status: str
    scheduled_by: str
    reason: str | None


class ChangeView(ResponseBody):
    """``state`` as of the read (an open request past ``expiresAt`` reads ``expired``). ``schedule`` is
    null but on a scheduled request's; ``emergency`` is null but on an emergency change's."""

    change_id: str
    flow_id: str
    action: str
    params: dict[str, Any]
    title: str | None
    description: str | None
    state: ChangeState
    author: str
    created_at: Timestamp
    expires_at: Timestamp
    base: BaseView
    content_hash: str
    diff: dict[str, Any] | None
    required: int
    approvals: list[ReviewView]
    rejections: list[ReviewView]
    blocked: BlockedView | None
    schedule: ScheduleView | None
    applied_at: NullableTimestamp
    applied_by: str | None
    result: dict[str, Any] | None
    emergency: EmergencyChangeView | None
    row_version: int

    @classmethod
    def of(cls, change: "ChangeRequest", now: str) -> Self:
        base = change.base
        return cls(
            **cls.fields_of(
                change,
                exclude=frozenset(
                    {"params", "state", "base", "diff", "approvals", "rejections", "blocked", "emergency", "schedule"}
                ),
            ),
            params=json.loads(change.params),
            state=change.state_at(now),
            base=BaseView(
                live_version=base.live_version,
                challenger_version=base.challenger_version,
                percent=None if base.basis_points is None else base.basis_points / 100,
            ),
            diff={"summary": json.loads(change.diff_summary)} if change.diff_summary else None,
            approvals=[ReviewView(**ReviewView.fields_of(review)) for review in change.approvals],
            rejections=[ReviewView(**ReviewView.fields_of(review)) for review in change.rejections],
            blocked=BlockedView(code=change.blocked.code, detail=change.blocked.detail) if change.blocked else None,
            schedule=ScheduleView(**ScheduleView.fields_of(change.schedule)) if change.schedule else None,
            emergency=EmergencyChangeView(**EmergencyChangeView.fields_of(change.emergency))
            if change.emergency
            else None,
        )


class ChangeListView(ResponseBody):
    data: list[ChangeView]
    pagination: PaginationView


class AppliedView(ResponseBody):
    change: ChangeView
    flow: FlowView
