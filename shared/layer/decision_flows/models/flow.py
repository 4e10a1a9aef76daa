"""The stored shapes of a decision flow and its versions, shared by the domain and the access layer.

Configs travel as canonical JSON strings (see ``domain.pipeline.canonical_json``): that is how
they are stored, measured and compared, and it keeps DynamoDB's number and nesting rules out of
tenants' configs.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# The flow record carries the latest versions only, so its size does not grow with history.
PUBLISHED_VERSIONS_ON_FLOW = 20


class FlowStatus(StrEnum):
    ACTIVE = "active"
    DRAFT = "draft"
    PAUSED = "paused"
    ARCHIVED = "archived"


class FlowAction(StrEnum):
    """What the last write did; the stream consumer reads it from the new image."""

    CREATED = "created"
    UPDATED = "updated"
    PUBLISHED = "published"
    ROLLED_BACK = "rolled_back"
    STATUS_CHANGED = "status_changed"
    DELETED = "deleted"
    ROLLOUT_STARTED = "rollout_started"
    ROLLOUT_CHANGED = "rollout_changed"
    ROLLOUT_PROMOTED = "rollout_promoted"
    ROLLOUT_ABORTED = "rollout_aborted"
    # History entries that are not a flow's own write: the tenant's policy, and change requests.
    POLICY_CHANGED = "policy_changed"
    CHANGE_REQUESTED = "change_requested"
    CHANGE_APPROVED = "change_approved"
    CHANGE_REJECTED = "change_rejected"
    CHANGE_CANCELLED = "change_cancelled"
    CHANGE_BLOCKED = "change_blocked"
    CHANGE_SCHEDULED = "change_scheduled"
    CHANGE_UNSCHEDULED = "change_unscheduled"
    SCHEDULE_SUSPENDED = "schedule_suspended"
    PLAN_CANCELLED = "plan_cancelled"  # beside the entry of the flow write that cancelled the steps


class ScheduleStatus(StrEnum):
    """A scheduled change request's schedule, or a rollout plan's step."""

    PENDING = "pending"
    SUSPENDED = "suspended"  # it could not apply (``reason``: the problem's code, or MISSED)
    DONE = "done"
    # a request cancelled or rejected (or its flow deleted) before runAt; a rollout plan's step that a
    # manual rollout call, a rollback or a delete ended
    CANCELLED = "cancelled"


class StoredModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)


class VersionSummary(StoredModel):
    version: int
    published_at: str
    published_by: str
    notes: str | None = None
    restored_from: int | None = None


class PublishedVersion(VersionSummary):
    """One immutable published version; ``config`` is loaded only when a snapshot is asked for."""

    node_count: int | None = None
    scoring_method: str | None = None
    config_hash: str
    config: str | None = None


class PlanStep(StoredModel):
    """One later step of a rollout plan: to ``basis_points`` or, the last one only, ``promote``, at
    ``run_at`` (the rollout's start plus ``after``, the caller's ISO 8601 duration, kept to echo)."""

    after: str
    basis_points: int | None = None
    promote: bool = False
    run_at: str
    status: ScheduleStatus = ScheduleStatus.PENDING
    reason: str | None = None  # a suspended step's: the problem's code, or MISSED

    @property
    def percent(self) -> float | None:
        return None if self.basis_points is None else self.basis_points / 100


class Rollout(StoredModel):
    """A staged rollout: the challenger version is served to ``basis_points`` / 10 000 of subjects, always
    to the ``include`` subjects and never to the ``exclude`` ones (sorted, distinct; absent on items
    stored before overrides existed, so they read as empty)."""

    challenger_version: int
    challenger_config_hash: str
    basis_points: int  # the challenger's share in hundredths of a percent: 12.5 % is 1250
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    started_at: str
    started_by: str
    updated_at: str
    plan: list[PlanStep] | None = None  # the later steps a publish planned, with their states

    @property
    def percent(self) -> float:
        return self.basis_points / 100

    def next_step(self) -> int | None:
        """The index of the plan's next pending step: the only one with a schedule."""
        for index, step in enumerate(self.plan or ()):
            if step.status == ScheduleStatus.PENDING:
                return index
        return None


class EmergencyNote(StoredModel):
    """Why an admin made an emergency change: on its history entry and its change request."""

    reason: str
    incident: str | None = None


class AppliedChange(StoredModel):
    """On the flow written by an applied change request, for that write's history entry."""

    change_id: str
    author: str
    approved_by: list[str]
    emergency: EmergencyNote | None = None  # an emergency change: recorded as applied, reviewed afterwards


class Flow(StoredModel):
    """A flow as stored. ``draft_config`` is None when read from the list index (never projected)."""

    id: str
    tenant_id: str
    key: str
    name: str
    description: str | None = None
    status: FlowStatus = FlowStatus.DRAFT
    auto_assembly: bool = True
    draft_config: str | None = None
    draft_hash: str
    live_config_hash: str | None = None
    published_versions: list[VersionSummary] = Field(default_factory=list)
    live_version: int | None = None
    latest_version: int | None = None
    row_version: int = 1
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str
    last_action: FlowAction = FlowAction.CREATED
    rollout: Rollout | None = None  # while a challenger is served to a share of subjects
    last_notes: str | None = None  # the notes of the last promote or abort, for its history entry
    last_change: AppliedChange | None = None  # the change request the last write applied, if one did
    last_plan_step: int | None = None  # the rollout plan's step the last write applied or suspended

    @property
    def has_unpublished_changes(self) -> bool:
        return self.draft_hash != self.live_config_hash
