"""A rollout plan's request rules, the steps it stores, and the plan_cancelled entry a write leaves
(no store, no stream)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from decision_flows.domain import transitions
from decision_flows.domain.change_feed import ChangeFeed, FlowWritten
from decision_flows.domain.errors import InvalidRequest
from decision_flows.domain.flow_rules import check_plan
from decision_flows.domain.history import change_entry, plan_cancelled_entry
from decision_flows.domain.transitions import Share
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.flow import FlowAction, FlowStatus
from decision_flows.models.history import ChangeEntry
from decision_flows.models.identity import Identity, Role
from decision_flows.models.live import LiveEntry
from decision_flows.models.publish_commands import PlanStepRequest, RolloutShare
from tests.support.flows import NOW, a_flow, a_rollout
from tests.support.in_memory_flows import InMemoryFlowStore

START = "2026-12-06T10:00:00.000Z"
BOB = Identity("t", Role.EDITOR, "bob")


@pytest.mark.parametrize(
    "step",
    [
        {"after": "PT0S", "percent": 10},  # not after the start
        {"after": "P91D", "percent": 10},  # past 90 days
        {"after": "P13W", "percent": 10},  # 91 days, in weeks
        {"after": "P1M", "percent": 10},  # months have no fixed length
        {"after": "PT1.5H", "percent": 10},  # fractions are not taken
        {"after": "P", "percent": 10},
        {"after": "3600", "percent": 10},
        {"after": 3600, "percent": 10},
        {"after": "PT1H"},  # neither a share nor a promote
        {"after": "PT1H", "percent": 10, "promote": True},  # both
        {"after": "PT1H", "promote": False},
        {"after": "PT1H", "percent": None, "promote": True},  # null is refused, not read as left out
        {"after": "PT1H", "percent": 100},
        {"after": "PT1H", "percent": 10, "pause": True},
    ],
)
def test_a_step_out_of_its_rules_is_refused(step: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PlanStepRequest.model_validate(step)


@pytest.mark.parametrize("after", ["PT1M", "PT1H30M", "P1DT2H", "P90D", "P2W", "PT90S"])
def test_a_step_may_come_any_whole_duration_up_to_90_days_after_the_start(after: str) -> None:
    assert PlanStepRequest.model_validate({"after": after, "percent": 10}).after == after


def test_a_plan_holds_one_to_ten_steps() -> None:
    steps = [{"after": f"PT{n}H", "percent": 10 + n} for n in range(1, 12)]
    for plan in ([], steps):
        with pytest.raises(ValidationError):
            RolloutShare.model_validate({"percent": 5, "plan": plan})


def test_a_plan_that_does_not_step_up_names_every_step_at_fault() -> None:
    share = RolloutShare.model_validate(
        {
            "percent": 20,
            "plan": [
                {"after": "PT2H", "percent": 10},  # below the rollout's own share
                {"after": "PT2H", "promote": True},  # not later, and promotes before the end
                {"after": "PT3H", "percent": 30},
            ],
        }
    )

    with pytest.raises(InvalidRequest) as refused:
        check_plan(share)

    assert {problem.field for problem in refused.value.errors} == {
        "rollout.plan.0.percent",
        "rollout.plan.1.after",
        "rollout.plan.1.promote",
    }


def test_a_plan_that_steps_up_passes() -> None:
    check_plan(
        RolloutShare.model_validate(
            {"percent": 5, "plan": [{"after": "PT1H", "percent": 25}, {"after": "P1D", "promote": True}]}
        )
    )


def test_the_stored_steps_run_at_the_start_plus_their_after() -> None:
    steps = [PlanStepRequest(after="PT90M", percent=12.5), PlanStepRequest(after="P1D", promote=True)]

    planned = transitions.planned_steps(steps, START)

    assert planned is not None
    assert [(s.run_at, s.basis_points, s.promote, s.status) for s in planned] == [
        ("2026-12-06T11:30:00.000Z", 1250, False, ScheduleStatus.PENDING),
        ("2026-12-07T10:00:00.000Z", None, True, ScheduleStatus.PENDING),
    ]


def _planned_flow() -> Any:
    steps = transitions.planned_steps(
        [PlanStepRequest(after="PT1H", percent=25), PlanStepRequest(after="PT2H", promote=True)], START
    )
    rollout = a_rollout(basis_points=500, started_at=START, updated_at=START, plan=steps)
    return a_flow(status=FlowStatus.ACTIVE, live_version=2, latest_version=3, rollout=rollout)


def test_a_plan_step_cancels_nothing_and_a_manual_change_cancels_the_rest() -> None:
    flow = _planned_flow()

    by_plan = transitions.rollout_changed(flow, BOB, NOW, Share(2500), step=0)
    by_hand = transitions.rollout_changed(flow, BOB, NOW, Share(4000))

    assert plan_cancelled_entry("e", flow, by_plan) is None
    entry = plan_cancelled_entry("e", flow, by_hand)
    assert entry is not None
    assert (entry.action, entry.actor, entry.row_version) == (FlowAction.PLAN_CANCELLED, "bob", flow.row_version + 1)
    assert [(step.after, step.status) for step in entry.steps or ()] == [
        ("PT1H", ScheduleStatus.CANCELLED),
        ("PT2H", ScheduleStatus.CANCELLED),
    ]


def test_a_write_that_ends_the_rollout_cancels_its_pending_steps_but_not_the_plans_own_promote() -> None:
    flow = _planned_flow()
    stepped = transitions.rollout_changed(flow, BOB, NOW, Share(2500), step=0)

    promoted_by_plan = transitions.promoted(stepped, BOB, NOW, None, step=1)
    aborted = transitions.aborted(stepped, BOB, NOW, None)
    edited = transitions.edited(stepped, BOB, NOW, {"name": "renamed"})
    suspended = transitions.plan_suspended(stepped, BOB, NOW, 1, "FLOW_NOT_ACTIVE")

    assert plan_cancelled_entry("e", stepped, promoted_by_plan) is None
    cancelled = plan_cancelled_entry("e", stepped, aborted)
    assert cancelled is not None
    assert [(step.after, step.status) for step in cancelled.steps or ()] == [("PT2H", ScheduleStatus.CANCELLED)]
    assert plan_cancelled_entry("e", stepped, edited) is None
    assert plan_cancelled_entry("e", stepped, suspended) is None


def test_the_plans_own_promote_names_its_step_and_a_write_with_no_plan_before_cancels_nothing() -> None:
    # Given a plan's first step applied, then its last one promoting
    stepped = transitions.rollout_changed(_planned_flow(), BOB, NOW, Share(2500), step=0)
    promoted_by_plan = transitions.promoted(stepped, BOB, NOW, None, step=1)

    # Then the promote's entry names the plan's step, with no suspension's reason
    entry = change_entry("e", stepped, promoted_by_plan)
    assert (entry.action, entry.plan_step, entry.reason) == (FlowAction.ROLLOUT_PROMOTED, 1, None)
    # and a create, or a write of a flow with no rollout, leaves no plan_cancelled entry
    plain = a_flow()
    assert plan_cancelled_entry("e", None, plain) is None
    assert plan_cancelled_entry("e", plain, transitions.edited(plain, BOB, NOW, {"name": "renamed"})) is None


class Recorded:
    """The history entries and live pointers the consumer wrote."""

    def __init__(self) -> None:
        self.entries: list[ChangeEntry] = []
        self.pointers: list[LiveEntry] = []

    def record(self, entry: ChangeEntry) -> None:
        self.entries.append(entry)

    def put_live(self, entry: LiveEntry) -> bool:
        self.pointers.append(entry)
        return True


def test_the_consumer_records_a_cancellation_beside_its_write_and_leaves_live_alone_for_a_suspension() -> None:
    flow = _planned_flow()
    recorded = Recorded()
    feed = ChangeFeed(recorded, recorded, InMemoryFlowStore())  # type: ignore[arg-type]

    feed.apply(FlowWritten("e1", flow, transitions.plan_suspended(flow, BOB, NOW, 0, "MISSED")))
    assert [(e.action, e.plan_step, e.reason) for e in recorded.entries] == [
        (FlowAction.SCHEDULE_SUSPENDED, 0, "MISSED")
    ]
    assert recorded.pointers == []  # what /live serves did not change

    feed.apply(FlowWritten("e2", flow, transitions.rollout_changed(flow, BOB, NOW, Share(4000))))
    assert [(e.action, e.event_id) for e in recorded.entries[1:]] == [
        (FlowAction.ROLLOUT_CHANGED, "e2"),
        (FlowAction.PLAN_CANCELLED, "e2#plan"),
    ]
