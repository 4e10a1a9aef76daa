"""ScheduleFunction's handler against moto, as EventBridge Scheduler invokes it with a job's Input:
the change applies on time, a missed one is suspended and counted; and a POST /changes/schedule whose
Scheduler call failed after the DynamoDB write answers 503 and succeeds when retried."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.dal.client import scheduler_client
from decision_flows.domain.clock import timestamp
from decision_flows.domain.errors import StoreUnavailable
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows.scheduling.eventbridge import EventBridgeScheduler, at_expression
from decision_flows.settings import ScheduleTarget
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, LambdaContext
from tests.integration.test_change_requests import request_change
from tests.integration.test_metrics import SERVICE, Emitted
from tests.integration.test_policy_routes import live_flow
from tests.integration.test_scheduled_changes import approved_publish, live_version, read, schedule
from tests.support.schedulers import Clock, InMemoryScheduler
from tests.support.tenants import TENANT_A

# The template's resources by their logical ids, as the local runs name tables (tests/support/iam.py
# maps them to the deployed stack's ARNs for the least-privilege check).
LOCAL_TARGET = ScheduleTarget(
    group_name="ScheduleGroup",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:ScheduleFunction",
    role_arn="arn:aws:iam::123456789012:role/SchedulerRole",
    dead_letter_arn="arn:aws:sqs:us-east-1:123456789012:SchedulesDeadLetterQueue",
)


def deliver(scheduler: InMemoryScheduler, clock: Clock) -> list[Any]:
    """What EventBridge Scheduler does at the clock's time: invoke the firing function with each due job's Input."""
    handler = template.handler("ScheduleFunction")
    return [handler(job.payload(), LambdaContext()) for job in scheduler.take_due(clock())]


def publish_in_two_minutes(api: Api, clock: Clock) -> tuple[dict[str, Any], dict[str, Any]]:
    flow, change = approved_publish(api)
    assert schedule(api, change, timestamp(clock() + timedelta(minutes=2))).status == 200
    return flow, change


def test_a_delivered_schedule_applies_the_change_through_the_function(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    flow, change = publish_in_two_minutes(editor, clock)

    clock.advance(timedelta(minutes=2))

    assert deliver(scheduler, clock) == [{"done": 1}]
    assert live_version(editor, flow) == 3
    assert read(editor, change)["schedule"]["status"] == "done"
    # delivered again (Scheduler's retry after a lost answer): nothing more happens
    again = ScheduledJob.for_change(TENANT_A, change["changeId"])
    assert template.handler("ScheduleFunction")(again.payload(), LambdaContext()) == {"nothing": 1}


@pytest.mark.parametrize(("action", "params"), [("rollback", {"version": 1}), ("delete", {})])
def test_a_scheduled_rollback_or_delete_applies_through_the_function(
    admin: Api, clock: Clock, scheduler: InMemoryScheduler, action: str, params: dict[str, Any]
) -> None:
    # Given an admin's approved rollback or delete (required 0), scheduled
    flow = live_flow(admin)
    change = request_change(admin, flow["id"], action, **params).body
    assert schedule(admin, change, timestamp(clock() + timedelta(minutes=1))).status == 200

    # When Scheduler delivers it
    clock.advance(timedelta(minutes=1))
    assert deliver(scheduler, clock) == [{"done": 1}]

    # Then it is applied: v1's config live again, or the flow gone
    assert read(admin, change)["state"] == "applied"
    after = admin.get(id=flow["id"])
    assert after.status == 404 if action == "delete" else after.body["liveVersion"] == 3  # v1 restored as v3


def test_the_sweepers_event_fires_a_due_job_whose_schedule_was_lost(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a scheduled change whose Scheduler schedule is gone (a crash after the DynamoDB write)
    flow, _ = publish_in_two_minutes(editor, clock)
    scheduler.schedules.clear()

    # When the sweeper's rule invokes the function after runAt, within the five minutes
    clock.advance(timedelta(minutes=4))
    swept = template.handler("ScheduleFunction")(
        template.handler_module("ScheduleFunction").SWEEP_EVENT, LambdaContext()
    )

    # Then the change is applied
    assert swept == {"done": 1}
    assert live_version(editor, flow) == 3


def test_a_missed_schedule_is_suspended_and_counted(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, capsys: pytest.CaptureFixture[str]
) -> None:
    flow, change = publish_in_two_minutes(editor, clock)
    emitted = Emitted(capsys)
    emitted.read()

    clock.advance(timedelta(minutes=8))

    assert deliver(scheduler, clock) == [{"suspended": 1}]
    assert emitted.read()[("SchedulesSuspended", SERVICE)] == 1
    assert read(editor, change)["schedule"]["reason"] == "MISSED"
    assert live_version(editor, flow) == 2


class FailingOnce(InMemoryScheduler):
    """A Scheduler whose first call fails as a throttled EventBridge Scheduler does past its retries."""

    failures: int = 1

    def put_schedule(self, job: ScheduledJob, run_at: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("STORE_BUSY", "The scheduler did not answer; retry shortly.")
        super().put_schedule(job, run_at)


def test_a_schedule_call_that_failed_after_the_write_is_503_and_a_retry_succeeds(
    editor: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Scheduler that fails the first call (the request's item is written before it)
    failing = FailingOnce()
    monkeypatch.setattr(wiring.schedule_service(), "_scheduler", failing)
    _, change = approved_publish(editor)
    run_at = clock() + timedelta(minutes=2)

    # When the change is scheduled, then scheduled again with the same body and Idempotency-Key
    headers = {"Idempotency-Key": "schedule-once"}
    body = {"changeId": change["changeId"], "runAt": timestamp(run_at)}
    first = editor.request("POST", "/changes/schedule", body=body, headers=headers)
    retried = editor.request("POST", "/changes/schedule", body=body, headers=headers)

    # Then the first is 503 with Retry-After, the retry 200, and the schedule exists once
    assert (first.status, first.code, first.headers["retry-after"]) == (503, "STORE_BUSY", "1")
    assert retried.status == 200, retried.body
    assert retried.body["schedule"]["status"] == "pending"
    assert failing.schedules == {ScheduledJob.for_change(TENANT_A, change["changeId"]): run_at}


def test_the_changes_function_makes_moves_and_deletes_a_schedule_on_eventbridge(
    editor: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the EventBridge adapter on moto's scheduler (its calls are held against the function's role)
    client = scheduler_client()
    client.create_schedule_group(Name=LOCAL_TARGET.group_name)
    monkeypatch.setattr(wiring.schedule_service(), "_scheduler", EventBridgeScheduler(LOCAL_TARGET, scheduler_client))
    _, change = approved_publish(editor)
    job = ScheduledJob.for_change(TENANT_A, change["changeId"])

    def expression() -> str:
        return str(client.get_schedule(Name=job.name, GroupName=LOCAL_TARGET.group_name)["ScheduleExpression"])

    # When it is scheduled, then moved
    first, moved = clock() + timedelta(minutes=2), clock() + timedelta(minutes=3)
    assert schedule(editor, change, timestamp(first)).status == 200
    assert expression() == at_expression(first)
    assert schedule(editor, change, timestamp(moved)).status == 200

    # Then Scheduler holds the new time; and once unscheduled, no schedule
    assert expression() == at_expression(moved)
    unscheduled = editor.request("POST", "/changes/unschedule", body={"changeId": change["changeId"]})
    assert unscheduled.status == 200, unscheduled.body
    assert client.list_schedules(GroupName=LOCAL_TARGET.group_name)["Schedules"] == []


def test_the_sample_events_are_what_scheduler_and_the_sweeper_deliver(dynamodb: Any) -> None:
    samples = template.ROOT / "events" / "schedules"
    fire = json.loads((samples / "fire-change.json").read_text())
    assert template.handler("ScheduleFunction")(fire, LambdaContext()) == {"nothing": 1}  # no such request
    assert json.loads((samples / "sweep.json").read_text()) == template.handler_module("ScheduleFunction").SWEEP_EVENT
