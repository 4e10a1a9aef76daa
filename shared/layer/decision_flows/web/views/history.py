"""Response bodies of GET /history: the change history's entries."""

import json
from typing import Any, Self

from decision_flows.models.flow import FlowAction
from decision_flows.models.history import ChangeEntry
from decision_flows.web.views.body import PaginationView, ResponseBody, Timestamp, left_out_when_none
from decision_flows.web.views.plan_steps import PlanStepView


class EndedRolloutView(ResponseBody):
    challenger_version: int
    percent: float


class EmergencyEntryView(ResponseBody):
    reason: str
    incident: str | None


class ChangeEntryView(ResponseBody):
    event_id: str
    flow_id: str
    action: FlowAction
    actor: str
    at: Timestamp
    row_version: int
    from_version: int | None = left_out_when_none()
    to_version: int | None = left_out_when_none()
    restored_from: int | None = left_out_when_none()
    changes: dict[str, dict[str, Any]] | None = left_out_when_none()
    previous_draft: dict[str, Any] | None = left_out_when_none()
    config_changes: dict[str, Any] | None = left_out_when_none()  # the diff summary (see GET /diff)
    percent: float | None = left_out_when_none()  # rollout entries: the challenger's share
    include: list[str] | None = left_out_when_none()  # rollout_started and rollout_changed: the overrides
    exclude: list[str] | None = left_out_when_none()
    notes: str | None = left_out_when_none()  # a promote's or abort's notes
    rollout_ended: EndedRolloutView | None = left_out_when_none()  # a rollback during a rollout
    change_id: str | None = left_out_when_none()  # a change request's entries, and the change it applied
    author: str | None = left_out_when_none()
    approved_by: list[str] | None = left_out_when_none()
    emergency: EmergencyEntryView | None = left_out_when_none()  # an emergency change's entry
    comment: str | None = left_out_when_none()
    plan_step: int | None = left_out_when_none()  # the rollout plan's step (0-based) a write applied or suspended
    reason: str | None = left_out_when_none()  # a suspended plan step's: the problem's code, or MISSED
    steps: list[PlanStepView] | None = left_out_when_none()  # plan_cancelled: the steps cancelled

    @classmethod
    def of(cls, entry: ChangeEntry) -> Self:
        ended = entry.rollout_ended
        return cls(
            **cls.fields_of(
                entry, exclude=frozenset({"previous_draft", "percent", "rollout_ended", "emergency", "steps"})
            ),
            steps=PlanStepView.all_of(entry.steps),
            previous_draft=json.loads(entry.previous_draft) if entry.previous_draft else None,
            percent=entry.basis_points / 100 if entry.basis_points is not None else None,
            rollout_ended=EndedRolloutView(
                challenger_version=ended.challenger_version, percent=ended.basis_points / 100
            )
            if ended
            else None,
            emergency=EmergencyEntryView(**EmergencyEntryView.fields_of(entry.emergency)) if entry.emergency else None,
        )


class HistoryView(ResponseBody):
    flow_id: str
    data: list[ChangeEntryView]
    pagination: PaginationView


class FeedView(ResponseBody):
    """The tenant feed: entries of all the tenant's flows (each names its ``flowId``), newest first."""

    data: list[ChangeEntryView]
    pagination: PaginationView
