"""Every change of a flow's state, as a pure function from the flow read to the flow to write.

``written`` is the one place a Flow is copied with changes, and it takes them as typed keywords
(``FlowChanges``), so a misspelt or mistyped field is a mypy error rather than a Flow that silently
keeps its old value (``model_copy(update=...)`` validates nothing). The checks that decide whether
a transition may happen live in ``flow_rules``; these functions assume they passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, Unpack

from decision_flows.domain.clock import timestamp
from decision_flows.domain.flow_rules import running_rollout
from decision_flows.models.flow import (
    PUBLISHED_VERSIONS_ON_FLOW,
    Flow,
    FlowAction,
    FlowStatus,
    PlanStep,
    PublishedVersion,
    Rollout,
    ScheduleStatus,
    VersionSummary,
)
from decision_flows.models.identity import Identity

if TYPE_CHECKING:
    from decision_flows.models.publish_commands import PlanStepRequest


class FlowChanges(TypedDict, total=False):
    """The fields a write may change; rowVersion and the who/when/what stamps are ``written``'s own."""

    key: str
    name: str
    description: str | None
    status: FlowStatus
    auto_assembly: bool
    draft_config: str | None
    draft_hash: str
    live_version: int | None
    live_config_hash: str | None
    latest_version: int | None
    published_versions: list[VersionSummary]
    rollout: Rollout | None
    last_notes: str | None
    last_plan_step: int | None


class VersionContent(TypedDict, total=False):
    """What a release puts in the version it appends, beside its number and who and when."""

    notes: str | None
    restored_from: int | None
    node_count: int | None
    scoring_method: str | None
    config_hash: str
    config: str | None


@dataclass(frozen=True)
class Share:
    """What a rollout serves: the challenger's share of subjects in basis points, and the subjects that
    always (``include``) or never (``exclude``) get it."""

    basis_points: int
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rollout: Rollout) -> Share:
        return cls(rollout.basis_points, rollout.include, rollout.exclude)


def written(flow: Flow, by: Identity, at: str, action: FlowAction, **changes: Unpack[FlowChanges]) -> Flow:
    """The flow after one write: every write bumps rowVersion and stamps who, when and what; notes last
    only for the write that gave them."""
    stamps = {"row_version": flow.row_version + 1, "updated_at": at, "updated_by": by.principal, "last_action": action}
    cleared = {"last_notes": None, "last_change": None, "last_plan_step": None}
    return flow.model_copy(update={**cleared, **changes, **stamps})


def edited(flow: Flow, by: Identity, at: str, changes: FlowChanges) -> Flow:
    """The draft's fields as sent (only those that differ); a change of status alone is named so."""
    action = FlowAction.STATUS_CHANGED if set(changes) == {"status"} else FlowAction.UPDATED
    return written(flow, by, at, action, **changes)


def next_version(flow: Flow, by: Identity, at: str, **content: Unpack[VersionContent]) -> PublishedVersion:
    """The version a release appends: numbered after the latest, stamped with who and when."""
    return PublishedVersion(
        version=(flow.latest_version or 0) + 1, published_at=at, published_by=by.principal, **content
    )


def went_live(flow: Flow, by: Identity, version: PublishedVersion, action: FlowAction) -> Flow:
    """``version`` is appended and live for everyone, and becomes the draft: a release ends any rollout."""
    return written(
        flow,
        by,
        version.published_at,
        action,
        draft_config=version.config,
        draft_hash=version.config_hash,
        live_version=version.version,
        latest_version=version.version,
        live_config_hash=version.config_hash,
        status=FlowStatus.ACTIVE,
        published_versions=_appended(flow, version),
        rollout=None,
    )


def planned_steps(steps: list[PlanStepRequest] | None, started_at: str) -> list[PlanStep] | None:
    """A publish's plan as stored: each step pending, at the rollout's start plus its ``after``."""
    if not steps:
        return None
    start = datetime.fromisoformat(started_at)
    return [
        PlanStep(
            after=step.after,
            basis_points=None if step.percent is None else round(step.percent * 100),
            promote=bool(step.promote),
            run_at=timestamp(start + step.delay),
        )
        for step in steps
    ]


def rollout_started(
    flow: Flow, by: Identity, version: PublishedVersion, share: Share, plan: list[PlanStepRequest] | None = None
) -> Flow:
    """``version`` is appended as the challenger served as ``share`` says; live stays."""
    at = version.published_at
    rollout = Rollout(
        challenger_version=version.version,
        challenger_config_hash=version.config_hash,
        basis_points=share.basis_points,
        include=share.include,
        exclude=share.exclude,
        started_at=at,
        started_by=by.principal,
        updated_at=at,
        plan=planned_steps(plan, at),
    )
    return written(
        flow,
        by,
        at,
        FlowAction.ROLLOUT_STARTED,
        latest_version=version.version,
        published_versions=_appended(flow, version),
        status=FlowStatus.ACTIVE,
        rollout=rollout,
    )


def rollout_changed(flow: Flow, by: Identity, at: str, share: Share, step: int | None = None) -> Flow:
    """The challenger's share or overrides move; the rollout records when. A manual change (no plan
    ``step``) cancels the plan's steps still to come."""
    rollout = running_rollout(flow)
    changed = Rollout(
        challenger_version=rollout.challenger_version,
        challenger_config_hash=rollout.challenger_config_hash,
        basis_points=share.basis_points,
        include=share.include,
        exclude=share.exclude,
        started_at=rollout.started_at,
        started_by=rollout.started_by,
        updated_at=at,
        plan=_steps_after(rollout.plan, step),
    )
    return written(flow, by, at, FlowAction.ROLLOUT_CHANGED, rollout=changed, last_plan_step=step)


def _steps_after(plan: list[PlanStep] | None, step: int | None) -> list[PlanStep] | None:
    """The plan after a rollout change: the plan's ``step`` done, or (a manual change) the rest cancelled."""
    if plan is None:
        return None
    if step is not None:
        return [_moved(done, ScheduleStatus.DONE) if index == step else done for index, done in enumerate(plan)]
    return [_moved(planned, ScheduleStatus.CANCELLED) for planned in plan]


def _moved(step: PlanStep, status: ScheduleStatus, reason: str | None = None) -> PlanStep:
    """A pending step moved to ``status``; a step done, suspended or cancelled already stays so."""
    if step.status != ScheduleStatus.PENDING:
        return step
    return step.model_copy(update={"status": status, "reason": reason})


def plan_suspended(flow: Flow, by: Identity, at: str, step: int, reason: str) -> Flow:
    """The plan's ``step`` could not apply: it and the steps after it are suspended with ``reason``."""
    rollout = running_rollout(flow)
    plan = [_moved(planned, ScheduleStatus.SUSPENDED, reason) for planned in rollout.plan or ()]
    suspended = rollout.model_copy(update={"plan": plan})
    return written(flow, by, at, FlowAction.SCHEDULE_SUSPENDED, rollout=suspended, last_plan_step=step)


def promoted(flow: Flow, by: Identity, at: str, notes: str | None, step: int | None = None) -> Flow:
    """The challenger becomes live for everyone (no new version), and the rollout ends (its plan with it:
    a manual promote cancels the steps still to come, as the history entries derived from the write say)."""
    rollout = running_rollout(flow)
    return written(
        flow,
        by,
        at,
        FlowAction.ROLLOUT_PROMOTED,
        live_version=rollout.challenger_version,
        live_config_hash=rollout.challenger_config_hash,
        rollout=None,
        last_notes=notes,
        last_plan_step=step,
    )


def aborted(flow: Flow, by: Identity, at: str, notes: str | None) -> Flow:
    """Everyone gets the champion again; the challenger stays in the version history."""
    running_rollout(flow)
    return written(flow, by, at, FlowAction.ROLLOUT_ABORTED, rollout=None, last_notes=notes)


def _appended(flow: Flow, version: PublishedVersion) -> list[VersionSummary]:
    summary = VersionSummary.model_validate(version.model_dump(include=set(VersionSummary.model_fields)))
    return [*flow.published_versions, summary][-PUBLISHED_VERSIONS_ON_FLOW:]
