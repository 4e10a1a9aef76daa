"""What the stream consumer reads and writes for history: delete tombstones and change-history entries."""

from typing import Any

from decision_flows.models.flow import EmergencyNote, FlowAction, FlowStatus, PlanStep, StoredModel


class FlowTombstone(StoredModel):
    """Written in the delete's transaction: the stream's REMOVE record of the flow names no actor."""

    flow_id: str
    tenant_id: str
    key: str
    status: FlowStatus
    live_version: int | None = None
    row_version: int
    deleted_at: str
    deleted_by: str
    cancelled_steps: list[PlanStep] | None = None  # the rollout plan's steps the delete cancelled


class EndedRollout(StoredModel):
    """The staged rollout a rollback ended: its challenger and the share it had reached."""

    challenger_version: int
    basis_points: int


class ChangeEntry(StoredModel):
    """One change-history entry. ``rowVersion`` orders a flow's entries and makes each write once.

    ``changes`` maps a field to ``{"from", "to"}``; for ``draftConfig`` those are config hashes, since
    two full configs would not fit one item. ``previousDraft`` (canonical JSON) keeps an unpublished
    draft that the change overwrote. ``configChanges`` is the diff summary of the draft (``updated``)
    or of what is live (releases), in the contract's shape.
    """

    event_id: str
    flow_id: str
    tenant_id: str
    action: FlowAction
    actor: str
    at: str
    row_version: int
    from_version: int | None = None
    to_version: int | None = None
    restored_from: int | None = None
    changes: dict[str, dict[str, Any]] | None = None
    previous_draft: str | None = None
    config_changes: dict[str, Any] | None = None  # the diff summary of what the draft or live config became
    basis_points: int | None = None  # rollout entries: the challenger's share in hundredths of a percent
    # rollout_started and rollout_changed entries: the overrides the step left (absent on older entries)
    include: list[str] | None = None
    exclude: list[str] | None = None
    notes: str | None = None  # a promote's or abort's notes
    rollout_ended: EndedRollout | None = None  # a rollback's: the rollout it ended
    # A change request's entries, and the entry of the write that applied one.
    change_id: str | None = None
    author: str | None = None
    approved_by: list[str] | None = None
    emergency: EmergencyNote | None = None  # the entry of an emergency change
    comment: str | None = None
    # A rollout plan's: the step a rollout_changed, rollout_promoted or schedule_suspended entry's write
    # applied or suspended (0-based, as the plan lists them), the suspension's reason, and the steps a
    # plan_cancelled entry cancelled.
    plan_step: int | None = None
    reason: str | None = None
    steps: list[PlanStep] | None = None
