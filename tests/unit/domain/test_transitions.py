"""The flow's transitions and their rules as pure functions: no store, no service, no clock."""

from __future__ import annotations

import typing

import pytest

from decision_flows.domain import flow_rules, transitions
from decision_flows.domain.errors import DomainError
from decision_flows.domain.transitions import FlowChanges, Share, VersionContent
from decision_flows.models.draft_commands import UpdateFlowRequest
from decision_flows.models.flow import (
    AppliedChange,
    Flow,
    FlowAction,
    FlowStatus,
    PlanStep,
    PublishedVersion,
    Rollout,
    ScheduleStatus,
)
from decision_flows.models.identity import Identity, Role
from decision_flows.models.publish_commands import PlanStepRequest

BOB = Identity(tenant_id="tenant-a", role=Role.EDITOR, principal="bob")
AT = "2026-12-06T10:00:00.000Z"


def a_flow(**fields: typing.Any) -> Flow:
    base = {
        "id": "df_1",
        "tenant_id": "tenant-a",
        "key": "welcome",
        "name": "Welcome",
        "draft_config": "{}",
        "draft_hash": "h-draft",
        "created_at": "2026-12-01T00:00:00.000Z",
        "updated_at": "2026-12-01T00:00:00.000Z",
        "created_by": "alice",
        "updated_by": "alice",
        "row_version": 4,
        "last_notes": "from before",
    }
    return Flow.model_validate({**base, **fields})


def a_rollout(version: int = 3, basis_points: int = 1000) -> Rollout:
    return Rollout(
        challenger_version=version,
        challenger_config_hash=f"h{version}",
        basis_points=basis_points,
        started_at="2026-12-05T00:00:00.000Z",
        started_by="alice",
        updated_at="2026-12-05T00:00:00.000Z",
    )


def a_version(flow: Flow, config_hash: str = "h-new") -> PublishedVersion:
    return transitions.next_version(flow, BOB, AT, notes="n", config_hash=config_hash, config='{"v":1}')


@pytest.mark.parametrize("typed", [FlowChanges, VersionContent])
def test_every_typed_change_names_a_field_of_the_model(typed: type) -> None:
    model = Flow if typed is FlowChanges else PublishedVersion
    assert set(typing.get_type_hints(typed)) <= set(model.model_fields)


def test_every_field_an_update_can_send_is_a_typed_change() -> None:
    # update() gathers its changes by name: each must be a field FlowChanges declares
    sendable = set(UpdateFlowRequest.model_fields) - {"id", "row_version"}
    assert sendable | {"draft_hash"} <= set(typing.get_type_hints(FlowChanges))


def test_a_write_bumps_the_row_version_stamps_it_and_clears_old_notes() -> None:
    flow = a_flow()

    renamed = transitions.written(flow, BOB, AT, FlowAction.UPDATED, name="Hello")

    assert (renamed.name, renamed.row_version, renamed.updated_at, renamed.updated_by) == ("Hello", 5, AT, "bob")
    assert (renamed.last_action, renamed.last_notes) == (FlowAction.UPDATED, None)
    assert (flow.name, flow.row_version) == ("Welcome", 4), "the flow read is left as it was"


def test_a_write_clears_the_change_and_plan_step_an_earlier_write_recorded() -> None:
    # Given a flow last written by a change request's apply and a rollout plan's step
    flow = a_flow(last_change=AppliedChange(change_id="cr_1", author="carol", approved_by=["dan"]), last_plan_step=1)

    # When another write, by neither, changes it
    renamed = transitions.written(flow, BOB, AT, FlowAction.UPDATED, name="Hello")

    # Then its history entry names neither the change request nor the step
    assert (renamed.last_change, renamed.last_plan_step) == (None, None)


@pytest.mark.parametrize(
    ("changes", "action"),
    [({"status": FlowStatus.ARCHIVED}, FlowAction.STATUS_CHANGED), ({"name": "X"}, FlowAction.UPDATED)],
)
def test_an_edit_of_the_status_alone_is_named_a_status_change(changes: FlowChanges, action: FlowAction) -> None:
    assert transitions.edited(a_flow(), BOB, AT, changes).last_action == action


def test_going_live_appends_the_version_makes_it_the_draft_and_ends_a_rollout() -> None:
    flow = a_flow(latest_version=2, live_version=2, status=FlowStatus.ACTIVE, rollout=a_rollout())
    version = a_version(flow)

    live = transitions.went_live(flow, BOB, version, FlowAction.PUBLISHED)

    assert version.version == 3
    assert (live.live_version, live.latest_version, live.live_config_hash) == (3, 3, "h-new")
    assert (live.draft_config, live.draft_hash, live.rollout) == ('{"v":1}', "h-new", None)
    assert [summary.version for summary in live.published_versions] == [3]
    assert (live.updated_at, live.last_action) == (version.published_at, FlowAction.PUBLISHED)


def test_a_rollout_starts_with_the_new_version_as_challenger_and_live_unchanged() -> None:
    flow = a_flow(latest_version=1, live_version=1, live_config_hash="h1", status=FlowStatus.ACTIVE)
    version = a_version(flow)

    staged = transitions.rollout_started(flow, BOB, version, Share(1250, ["qa-1"], ["vip-1"]))

    assert staged.rollout is not None
    assert (staged.rollout.challenger_version, staged.rollout.basis_points, staged.rollout.started_by) == (
        2,
        1250,
        "bob",
    )
    assert (staged.rollout.include, staged.rollout.exclude) == (["qa-1"], ["vip-1"])
    assert (staged.live_version, staged.live_config_hash, staged.latest_version) == (1, "h1", 2)
    assert (staged.draft_hash, staged.last_action) == ("h-draft", FlowAction.ROLLOUT_STARTED)


def test_a_rollout_change_moves_the_share_and_its_time_only() -> None:
    flow = a_flow(live_version=2, rollout=a_rollout(basis_points=1000))

    changed = transitions.rollout_changed(flow, BOB, AT, Share(5000))

    assert changed.rollout == a_rollout(basis_points=5000).model_copy(update={"updated_at": AT})
    assert changed.last_action == FlowAction.ROLLOUT_CHANGED


def test_a_rollout_change_may_move_the_overrides_alone() -> None:
    flow = a_flow(live_version=2, rollout=a_rollout(basis_points=1000))

    changed = transitions.rollout_changed(flow, BOB, AT, Share(1000, include=["qa-1", "qa-2"]))

    assert changed.rollout is not None
    assert (changed.rollout.basis_points, changed.rollout.include, changed.rollout.exclude) == (
        1000,
        ["qa-1", "qa-2"],
        [],
    )
    assert changed.row_version == flow.row_version + 1


def a_plan(*statuses: ScheduleStatus) -> list[PlanStep]:
    return [
        PlanStep(after=f"PT{index + 1}H", basis_points=2000 * (index + 1), run_at=AT, status=status)
        for index, status in enumerate(statuses)
    ]


def test_a_rollout_started_with_a_plan_stores_each_step_pending_at_its_start_plus_after() -> None:
    flow = a_flow(latest_version=1, live_version=1, status=FlowStatus.ACTIVE)
    bodies = [{"after": "PT1H", "percent": 50}, {"after": "P1D", "promote": True}]
    steps = [PlanStepRequest.model_validate(body) for body in bodies]

    staged = transitions.rollout_started(flow, BOB, a_version(flow), Share(1000), steps)

    assert staged.rollout is not None
    assert staged.rollout.plan == [
        PlanStep(after="PT1H", basis_points=5000, run_at="2026-12-06T11:00:00.000Z"),
        PlanStep(after="P1D", promote=True, run_at="2026-12-07T10:00:00.000Z"),
    ]


def test_a_planned_step_is_marked_done_and_named_on_the_write_that_applied_it() -> None:
    rollout = a_rollout().model_copy(update={"plan": a_plan(ScheduleStatus.PENDING, ScheduleStatus.PENDING)})

    changed = transitions.rollout_changed(a_flow(live_version=2, rollout=rollout), BOB, AT, Share(2000), step=0)

    assert changed.rollout is not None

    assert changed.rollout.plan is not None
    assert [step.status for step in changed.rollout.plan] == [ScheduleStatus.DONE, ScheduleStatus.PENDING]
    assert changed.last_plan_step == 0


def test_a_suspended_plan_suspends_its_pending_steps_with_the_reason_and_keeps_those_done() -> None:
    plan = a_plan(ScheduleStatus.DONE, ScheduleStatus.PENDING, ScheduleStatus.PENDING)
    flow = a_flow(live_version=2, rollout=a_rollout().model_copy(update={"plan": plan}))

    suspended = transitions.plan_suspended(flow, BOB, AT, 1, "ROW_VERSION_MISMATCH")

    assert suspended.rollout is not None

    assert suspended.rollout.plan is not None
    assert [(step.status, step.reason) for step in suspended.rollout.plan] == [
        (ScheduleStatus.DONE, None),
        (ScheduleStatus.SUSPENDED, "ROW_VERSION_MISMATCH"),
        (ScheduleStatus.SUSPENDED, "ROW_VERSION_MISMATCH"),
    ]
    assert (suspended.last_action, suspended.last_plan_step) == (FlowAction.SCHEDULE_SUSPENDED, 1)


def test_promoting_makes_the_challenger_live_and_keeps_its_notes() -> None:
    promoted = transitions.promoted(a_flow(live_version=2, rollout=a_rollout(3)), BOB, AT, "good")

    assert (promoted.live_version, promoted.live_config_hash, promoted.rollout) == (3, "h3", None)
    assert (promoted.last_notes, promoted.last_action) == ("good", FlowAction.ROLLOUT_PROMOTED)


def test_aborting_keeps_the_champion_live() -> None:
    aborted = transitions.aborted(a_flow(live_version=2, live_config_hash="h2", rollout=a_rollout(3)), BOB, AT, None)

    assert (aborted.live_version, aborted.live_config_hash, aborted.rollout) == (2, "h2", None)
    assert aborted.last_action == FlowAction.ROLLOUT_ABORTED


@pytest.mark.parametrize("transition", [transitions.promoted, transitions.aborted])
def test_a_rollout_step_without_a_rollout_is_refused(transition: typing.Any) -> None:
    with pytest.raises(DomainError) as refused:
        transition(a_flow(live_version=2), BOB, AT, None)
    assert refused.value.code == "NO_ROLLOUT"


@pytest.mark.parametrize(
    ("check", "code"),
    [
        (lambda: flow_rules.expected_row_version(3, 4), "ROW_VERSION_AMBIGUOUS"),
        (lambda: flow_rules.check_row_version(a_flow(), 3), "ROW_VERSION_MISMATCH"),
        (lambda: flow_rules.check_current_version(a_flow(live_version=2), 1), "CURRENT_VERSION_MISMATCH"),
        (lambda: flow_rules.check_current_version(a_flow(), 1), "CURRENT_VERSION_MISMATCH"),
        (lambda: flow_rules.check_can_become(a_flow(), FlowStatus.ACTIVE), "NOT_PUBLISHED"),
        (lambda: flow_rules.check_no_rollout(a_flow(rollout=a_rollout())), "ROLLOUT_IN_PROGRESS"),
        (lambda: flow_rules.check_can_stage(a_flow(), staged=True), "NOT_PUBLISHED"),
        (
            lambda: flow_rules.check_not_live(a_flow(live_config_hash="h-new"), a_version(a_flow())),
            "ALREADY_ACTIVE",
        ),
    ],
)
def test_each_rule_refuses_with_its_code(check: typing.Callable[[], object], code: str) -> None:
    with pytest.raises(DomainError) as refused:
        check()
    assert refused.value.code == code


@pytest.mark.parametrize(
    "check",
    [
        lambda: flow_rules.expected_row_version(3, 3),
        lambda: flow_rules.check_row_version(a_flow(), 4),
        lambda: flow_rules.check_row_version(a_flow(), None),
        lambda: flow_rules.check_current_version(a_flow(live_version=2), 2),
        lambda: flow_rules.check_can_become(a_flow(live_version=1), FlowStatus.ACTIVE),
        lambda: flow_rules.check_no_rollout(a_flow()),
        lambda: flow_rules.check_can_stage(a_flow(), staged=False),
        lambda: flow_rules.check_not_live(a_flow(live_config_hash="h-new", rollout=a_rollout()), a_version(a_flow())),
    ],
)
def test_each_rule_lets_a_valid_write_through(check: typing.Callable[[], object]) -> None:
    check()
