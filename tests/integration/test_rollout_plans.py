"""Rollout plans through the handlers against moto, fired by the domain's ``fire`` with the scheduler
fake and a clock the tests move: a plan that steps up and promotes, late within the window, missed,
cancelled by a manual call, refused by a flow deleted or paused, started by an applied change request,
and jobs that name another tenant's flow."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.dal import key_schema
from decision_flows.domain.clock import timestamp
from decision_flows.domain.errors import StoreUnavailable
from decision_flows.domain.schedules import Fired
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows.settings import settings
from decision_flows_local.api.gateway import Api
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.integration.test_change_requests import request_change, review
from tests.integration.test_emergency_changes import emergency_rollback
from tests.integration.test_policy_routes import live_flow, put_policy
from tests.support.schedulers import Clock, InMemoryScheduler
from tests.support.tenants import TENANT_A, TENANT_B

PLAN = [{"after": "PT1H", "percent": 25}, {"after": "PT4H", "promote": True}]


def planned(api: Api, plan: list[dict[str, Any]] | None = None, percent: float = 5) -> dict[str, Any]:
    """A live flow (v2) whose edited draft is published as v3, the challenger of a planned rollout."""
    flow = live_flow(api)
    started = api.publish(id=flow["id"], rollout={"percent": percent, "plan": PLAN if plan is None else plan})
    assert started.status == 200, started.body
    body: dict[str, Any] = started.body
    return body


def job(flow: dict[str, Any], step: int, tenant: str = TENANT_A) -> ScheduledJob:
    return ScheduledJob.for_plan_step(tenant, flow["id"], flow["rollout"]["challengerVersion"], step)


def fire_due(scheduler: InMemoryScheduler, clock: Clock) -> list[Fired]:
    """What the firing function does for each schedule the scheduler delivers at the clock's time."""
    return [wiring.schedule_service().fire(due) for due in scheduler.take_due(clock())]


def read(api: Api, flow: dict[str, Any]) -> dict[str, Any]:
    found = api.get(id=flow["id"])
    assert found.status == 200, found.body
    body: dict[str, Any] = found.body
    return body


def statuses(flow: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(step["status"], step["reason"]) for step in flow["rollout"]["plan"]]


def history(api: Api, stream: StreamPoller, flow: dict[str, Any]) -> list[dict[str, Any]]:
    """The flow's entries, oldest first, once the consumer ran."""
    stream.deliver()
    entries: list[dict[str, Any]] = api.get("/history", id=flow["id"]).body["data"]
    return entries[::-1]


def due_keys(dynamodb: Any, flow: dict[str, Any]) -> str | None:
    """The flow item's DueJobs sort key: present exactly while its plan has a pending step."""
    item = dynamodb.get_item(
        TableName=settings().flows_table,
        Key=key_schema.key(key_schema.flow_pk(TENANT_A, flow["id"]), key_schema.FLOW_SK),
    )["Item"]
    return item["DueSK"]["S"] if "DueSK" in item else None


def at(flow: dict[str, Any], after: timedelta) -> datetime:
    return datetime.fromisoformat(flow["rollout"]["startedAt"]) + after


def test_a_plan_steps_up_and_promotes_each_step_once_at_its_time(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller, dynamodb: Any
) -> None:
    # Given v3 published to 5 % with a plan: 25 % after an hour, promoted after four
    flow = planned(editor)

    # Then the plan shows each step pending at the rollout's start plus its after; only the first has a schedule
    first, last = at(flow, timedelta(hours=1)), at(flow, timedelta(hours=4))
    assert flow["rollout"]["plan"] == [
        {"after": "PT1H", "percent": 25, "runAt": timestamp(first), "status": "pending", "reason": None},
        {"after": "PT4H", "promote": True, "runAt": timestamp(last), "status": "pending", "reason": None},
    ]
    assert scheduler.schedules == {job(flow, 0): first}
    assert due_keys(dynamodb, flow) == key_schema.due_attributes(first, job(flow, 0))["DueSK"]

    # When a delivery comes early (a replaced plan's schedule), and then the first step's time comes
    clock.advance(timedelta(minutes=59))
    assert wiring.schedule_service().fire(job(flow, 0)) == Fired(job(flow, 0), early_by=timedelta(minutes=1))
    assert read(editor, flow)["rollout"]["percent"] == 5
    clock.now = first
    assert fire_due(scheduler, clock) == [Fired(job(flow, 0), ScheduleStatus.DONE)]

    # Then v3 serves 25 %, the step is done and the next one is scheduled
    stepped = read(editor, flow)
    assert stepped["rollout"]["percent"] == 25
    assert statuses(stepped) == [("done", None), ("pending", None)]
    assert scheduler.schedules == {job(flow, 1): last}

    # When the last step's time comes, and its schedule is delivered twice
    clock.now = last
    assert fire_due(scheduler, clock) == [Fired(job(flow, 1), ScheduleStatus.DONE)]
    assert wiring.schedule_service().fire(job(flow, 1)) == Fired(job(flow, 1))

    # Then v3 is live for everyone, nothing is left scheduled, and history shows each step as the plan's
    promoted = read(editor, flow)
    assert (promoted["liveVersion"], promoted["rollout"]) == (3, None)
    assert scheduler.schedules == {}
    assert due_keys(dynamodb, flow) is None
    steps = [
        (entry["action"], entry.get("planStep"), entry.get("percent"), entry["actor"])
        for entry in history(editor, stream, flow)[-3:]
    ]
    assert steps == [
        ("rollout_started", None, 5, "editor@a.example"),
        ("rollout_changed", 0, 25, "editor@a.example"),
        ("rollout_promoted", 1, 25, "editor@a.example"),
    ]


def test_a_step_late_within_five_minutes_applies(editor: Api, clock: Clock, scheduler: InMemoryScheduler) -> None:
    flow = planned(editor)

    clock.now = at(flow, timedelta(hours=1, minutes=5))

    assert fire_due(scheduler, clock) == [Fired(job(flow, 0), ScheduleStatus.DONE)]
    assert read(editor, flow)["rollout"]["percent"] == 25


def test_a_missed_step_suspends_it_and_the_rest(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller, dynamodb: Any
) -> None:
    # Given a plan whose first step's time passed more than five minutes ago (the service was down)
    flow = planned(editor)
    clock.now = at(flow, timedelta(hours=1, minutes=5, seconds=1))

    # When it fires
    fired = fire_due(scheduler, clock)

    # Then nothing is applied: both steps are suspended as MISSED, recorded, and nothing waits any more
    assert fired == [Fired(job(flow, 0), ScheduleStatus.SUSPENDED, "MISSED")]
    suspended = read(editor, flow)
    assert suspended["rollout"]["percent"] == 5
    assert statuses(suspended) == [("suspended", "MISSED"), ("suspended", "MISSED")]
    assert (scheduler.schedules, due_keys(dynamodb, flow)) == ({}, None)
    last = history(editor, stream, flow)[-1]
    assert (last["action"], last["planStep"], last["reason"], last["actor"]) == (
        "schedule_suspended",
        0,
        "MISSED",
        "editor@a.example",
    )


def test_a_manual_abort_cancels_the_plan(
    editor: Api, admin: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller
) -> None:
    # Given a planned rollout
    flow = planned(editor)

    # When an admin aborts it by hand
    assert admin.request("POST", "/rollout/abort", body={"id": flow["id"]}).status == 200

    # Then its schedule is deleted, a late delivery does nothing, and history shows the steps cancelled by whom
    assert scheduler.schedules == {}
    clock.now = at(flow, timedelta(hours=1))
    assert wiring.schedule_service().fire(job(flow, 0)) == Fired(job(flow, 0))
    *_, aborted, cancelled = history(editor, stream, flow)
    assert aborted["action"] == "rollout_aborted"
    assert (cancelled["action"], cancelled["actor"], cancelled["rowVersion"]) == (
        "plan_cancelled",
        "admin@a.example",
        aborted["rowVersion"],
    )
    assert [(step["after"], step["status"]) for step in cancelled["steps"]] == [
        ("PT1H", "cancelled"),
        ("PT4H", "cancelled"),
    ]
    in_feed = {(entry["action"], entry["rowVersion"]) for entry in editor.get("/history").body["data"]}
    assert {("rollout_aborted", aborted["rowVersion"]), ("plan_cancelled", aborted["rowVersion"])} <= in_feed


def test_a_manual_rollout_step_cancels_the_steps_to_come(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller, dynamodb: Any
) -> None:
    # Given a plan whose first step was applied
    flow = planned(editor)
    clock.now = at(flow, timedelta(hours=1))
    fire_due(scheduler, clock)

    # When the editor moves the share by hand
    moved = editor.request("POST", "/rollout", body={"id": flow["id"], "percent": 50})

    # Then the rollout keeps its plan, the step to come cancelled, and nothing waits any more
    assert moved.status == 200, moved.body
    assert statuses(moved.body) == [("done", None), ("cancelled", None)]
    assert (scheduler.schedules, due_keys(dynamodb, flow)) == ({}, None)
    *_, changed, cancelled = history(editor, stream, flow)
    assert (changed["action"], changed.get("planStep"), changed["percent"]) == ("rollout_changed", None, 50)
    assert (cancelled["action"], [step["after"] for step in cancelled["steps"]]) == ("plan_cancelled", ["PT4H"])


def test_a_step_of_a_deleted_flow_does_nothing(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller
) -> None:
    # Given a planned rollout whose flow is deleted
    flow = planned(editor)
    assert editor.delete(flow["id"]).status == 204

    # When its step's schedule (left behind by a crash) fires
    clock.now = at(flow, timedelta(hours=1))
    fired = wiring.schedule_service().fire(job(flow, 0))

    # Then nothing is applied nor raised; the delete had dropped the schedule and recorded the plan cancelled
    assert fired == Fired(job(flow, 0))
    assert scheduler.schedules == {}
    *_, deleted, cancelled = history(editor, stream, flow)
    assert (deleted["action"], cancelled["action"], len(cancelled["steps"])) == ("deleted", "plan_cancelled", 2)


def test_a_step_that_cannot_apply_suspends_the_rest(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller
) -> None:
    # Given a planned rollout whose flow was paused since
    flow = planned(editor)
    assert editor.update(id=flow["id"], status="paused").status == 200

    # When the first step fires
    clock.now = at(flow, timedelta(hours=1))
    fired = fire_due(scheduler, clock)

    # Then the share stays, and that step and the rest are suspended with the refusal's code
    assert fired == [Fired(job(flow, 0), ScheduleStatus.SUSPENDED, "FLOW_NOT_ACTIVE")]
    suspended = read(editor, flow)
    assert suspended["rollout"]["percent"] == 5
    assert statuses(suspended) == [("suspended", "FLOW_NOT_ACTIVE"), ("suspended", "FLOW_NOT_ACTIVE")]
    assert scheduler.schedules == {}
    assert history(editor, stream, flow)[-1]["action"] == "schedule_suspended"


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        ([{"after": "PT2H", "percent": 25}, {"after": "PT1H", "percent": 50}], "rollout.plan.1.after"),
        ([{"after": "PT1H", "percent": 5}], "rollout.plan.0.percent"),
        ([{"after": "PT1H", "promote": True}, {"after": "PT2H", "percent": 50}], "rollout.plan.0.promote"),
        ([{"after": "P1Y", "percent": 25}], "rollout.plan.0.after"),
        ([{"after": f"PT{n}H", "percent": 10 + n} for n in range(1, 12)], "rollout.plan"),
    ],
)
def test_a_plan_that_does_not_step_up_is_400_and_nothing_is_published(
    editor: Api, scheduler: InMemoryScheduler, plan: list[dict[str, Any]], field: str
) -> None:
    flow = live_flow(editor)

    refused = editor.publish(id=flow["id"], rollout={"percent": 5, "plan": plan})

    assert refused.status == 400, refused.body
    assert field in {problem["field"] for problem in refused.body["errors"]}
    assert (read(editor, flow)["latestVersion"], scheduler.schedules) == (2, {})


def test_a_dry_run_shows_the_plan_and_schedules_nothing(editor: Api, scheduler: InMemoryScheduler) -> None:
    flow = live_flow(editor)

    preview = editor.publish(id=flow["id"], rollout={"percent": 5, "plan": PLAN}, dryRun=True)

    assert preview.status == 200, preview.body
    assert [step["status"] for step in preview.body["flow"]["rollout"]["plan"]] == ["pending", "pending"]
    assert scheduler.schedules == {}


def test_an_applied_publish_request_starts_its_plan_at_apply_time(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a publish request with a planned rollout, approved at once, applied ten minutes later
    flow = live_flow(editor)
    made = request_change(editor, flow["id"], "publish", rollout={"percent": 5, "plan": PLAN})
    assert (made.status, made.body["state"]) == (201, "approved"), made.body
    clock.advance(timedelta(minutes=10))
    applied = review(editor, "apply", made.body)
    assert applied.status == 200, applied.body

    # Then the plan counts from the apply, and its first step is scheduled
    started = read(editor, flow)
    assert started["rollout"]["startedAt"] == timestamp(clock())
    assert scheduler.schedules == {job(started, 0): clock() + timedelta(hours=1)}


def test_a_job_fires_only_in_its_own_tenant(
    editor: Api, other_tenant: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given tenant A's planned rollout, due
    flow = planned(editor)
    clock.now = at(flow, timedelta(hours=1))

    # When a job names its flow with tenant B
    fired = wiring.schedule_service().fire(job(flow, 0, tenant=TENANT_B))

    # Then nothing happens to A's flow, and B has no such flow
    assert fired == Fired(job(flow, 0, tenant=TENANT_B))
    assert statuses(read(editor, flow)) == [("pending", None), ("pending", None)]
    assert other_tenant.get(id=flow["id"]).status == 404


def test_a_job_of_a_replaced_rollout_does_nothing(editor: Api, clock: Clock, scheduler: InMemoryScheduler) -> None:
    # Given a planned rollout of v3, aborted, and v4 published with a plan of its own
    flow = planned(editor)
    assert editor.request("POST", "/rollout/abort", body={"id": flow["id"]}).status == 200
    assert editor.update(id=flow["id"], draftConfig=v2_config("v4")).status == 200
    again = editor.publish(id=flow["id"], rollout={"percent": 5, "plan": PLAN}).body

    # When v3's first step comes late, at v4's first step's time
    clock.now = at(again, timedelta(hours=1))
    fired = wiring.schedule_service().fire(job(flow, 0))

    # Then it leaves v4's plan alone
    assert fired == Fired(job(flow, 0))
    assert statuses(read(editor, flow)) == [("pending", None), ("pending", None)]


@pytest.mark.parametrize("call", ["emergency rollback", "abort request", "promote"])
def test_every_way_of_ending_a_rollout_cancels_its_plan(
    admin: Api, editor: Api, scheduler: InMemoryScheduler, stream: StreamPoller, call: str
) -> None:
    # Given a planned rollout
    flow = planned(editor)

    # When it ends by an admin's emergency rollback, an applied abort request, or a manual promote
    if call == "emergency rollback":
        ended = emergency_rollback(admin, flow["id"])
    elif call == "abort request":
        ended = review(admin, "apply", request_change(admin, flow["id"], "abort").body)
    else:
        ended = editor.request("POST", "/rollout/promote", body={"id": flow["id"]})

    # Then nothing stays scheduled, and history records the plan cancelled by its caller
    assert ended.status == 200, ended.body
    assert scheduler.schedules == {}
    last = history(editor, stream, flow)[-1]
    assert (last["action"], len(last["steps"])) == ("plan_cancelled", 2)


def test_a_step_whose_schedule_was_lost_is_fired_by_the_sweep(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a planned rollout whose schedule was lost (a crash between the flow's write and the Scheduler call)
    flow = planned(editor)
    scheduler.schedules.clear()

    # When the sweep runs before the step's time, and again at it
    clock.now = at(flow, timedelta(minutes=59))
    early = wiring.schedule_service().sweep()
    clock.now = at(flow, timedelta(hours=1, seconds=30))
    due = wiring.schedule_service().sweep()

    # Then the store's DueJobs listing fired the step once, at its time, and now lists the next one
    assert (early, due) == ([], [Fired(job(flow, 0), ScheduleStatus.DONE)])
    assert read(editor, flow)["rollout"]["percent"] == 25
    assert scheduler.schedules == {job(flow, 1): at(flow, timedelta(hours=4))}


def test_a_step_needs_no_approval_under_a_policy_that_asks_for_review(
    editor: Api, admin: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a planned rollout, and then a policy that refuses a direct rollout step
    flow = planned(editor)
    put_policy(admin, 1)
    refused = editor.request("POST", "/rollout", body={"id": flow["id"], "percent": 10})
    assert refused.code == "APPROVAL_REQUIRED"

    # When the plan's first step comes
    clock.now = at(flow, timedelta(hours=1))

    # Then it applies: the plan was approved with its publish
    assert fire_due(scheduler, clock) == [Fired(job(flow, 0), ScheduleStatus.DONE)]
    assert read(editor, flow)["rollout"]["percent"] == 25


def test_a_publish_whose_plan_schedule_fails_lands_and_the_sweep_fires_the_step(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Scheduler that does not answer
    def unreachable(*_: Any) -> None:
        raise StoreUnavailable("STORE_BUSY", "The scheduler did not answer; retry shortly.")

    with monkeypatch.context() as scheduler_down:
        scheduler_down.setattr(scheduler, "put_schedule", unreachable)

        # When a planned rollout is published
        flow = planned(editor)

    # Then the publish answers 200 (it has landed: a retry would be refused), and the sweep fires its step
    assert (scheduler.schedules, statuses(flow)) == ({}, [("pending", None), ("pending", None)])
    clock.now = at(flow, timedelta(hours=1, seconds=30))
    assert wiring.schedule_service().sweep() == [Fired(job(flow, 0), ScheduleStatus.DONE)]
