"""Scheduled change requests through the handlers against moto, fired by the domain's ``fire`` with a
scheduler fake and a clock the tests move: on time, late within the window, missed, suspended on a
stale base, unscheduled, rescheduled, and the manual apply a pending schedule refuses."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.domain.clock import timestamp
from decision_flows.domain.schedules import Fired
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from tests.integration.test_change_requests import request_change, review, reviewer
from tests.integration.test_policy_routes import live_flow
from tests.support.schedulers import Clock, InMemoryScheduler
from tests.support.tenants import TENANT_A


def approved_publish(api: Api, key: str = "offers") -> tuple[dict[str, Any], dict[str, Any]]:
    """A live flow (v2) with an edited draft, and its publish requested: approved at once (required 0)."""
    flow = live_flow(api, key)
    made = request_change(api, flow["id"], "publish", notes="campaign")
    assert (made.status, made.body["state"]) == (201, "approved"), made.body
    return flow, made.body


def schedule(api: Api, change: dict[str, Any], run_at: str) -> HttpResponse:
    return api.request("POST", "/changes/schedule", body={"changeId": change["changeId"], "runAt": run_at})


def fire_due(scheduler: InMemoryScheduler, clock: Clock) -> list[Fired]:
    """What the firing function does for each schedule the scheduler delivers at the clock's time."""
    return [wiring.schedule_service().fire(job) for job in scheduler.take_due(clock())]


def read(api: Api, change: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = api.get("/changes", id=change["changeId"]).body
    return body


def history_of(api: Api, stream: StreamPoller, change: dict[str, Any]) -> set[tuple[str, str]]:
    """The (action, actor) of the tenant feed's entries about the request, once the consumer ran."""
    stream.deliver()
    entries = api.get("/history").body["data"]
    return {(entry["action"], entry["actor"]) for entry in entries if entry.get("changeId") == change["changeId"]}


def listed(api: Api, flow: dict[str, Any], state: str) -> list[str]:
    return [change["changeId"] for change in api.get("/changes", flowId=flow["id"], state=state).body["data"]]


def live_version(api: Api, flow: dict[str, Any]) -> int:
    version: int = api.get("", id=flow["id"]).body["liveVersion"]
    return version


def test_a_scheduled_change_applies_on_time_once_and_blocks_a_manual_apply(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller
) -> None:
    # Given an approved publish scheduled two minutes ahead, with an offset
    flow, change = approved_publish(editor)
    run_at = clock() + timedelta(minutes=2)
    scheduled = schedule(editor, change, run_at.astimezone(_PARIS).isoformat())
    assert scheduled.status == 200, scheduled.body
    assert scheduled.body["schedule"] == {
        "runAt": timestamp(run_at),
        "status": "pending",
        "scheduledBy": "editor@a.example",
        "reason": None,
    }
    assert scheduler.schedules == {ScheduledJob.for_change(TENANT_A, change["changeId"]): run_at}

    # Then a manual apply is refused while it is pending, and nothing fires before runAt
    assert review(editor, "apply", change).code == "SCHEDULE_PENDING"
    clock.advance(timedelta(minutes=1))
    assert fire_due(scheduler, clock) == []

    # When runAt comes
    clock.advance(timedelta(minutes=1))
    fire_due(scheduler, clock)

    # Then the request is applied by the one who scheduled it, and its schedule is done
    applied = read(editor, change)
    assert (applied["state"], applied["appliedBy"]) == ("applied", "editor@a.example")
    assert applied["result"] == {"version": 3}
    assert applied["schedule"]["status"] == "done"
    assert live_version(editor, flow) == 3

    # And a second delivery of the same schedule changes nothing (at most once)
    wiring.schedule_service().fire(ScheduledJob.for_change(TENANT_A, change["changeId"]))
    assert read(editor, change)["rowVersion"] == applied["rowVersion"]

    # And the history has the scheduling (the flow service's own clock stamps the flow's entries)
    assert ("change_scheduled", "editor@a.example") in history_of(editor, stream, change)


def test_a_late_firing_within_five_minutes_applies(editor: Api, clock: Clock, scheduler: InMemoryScheduler) -> None:
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200

    clock.advance(timedelta(minutes=7))  # runAt + 5 minutes: the last moment it may still apply
    fire_due(scheduler, clock)

    assert read(editor, change)["state"] == "applied"
    assert live_version(editor, flow) == 3


def test_a_schedule_missed_by_more_than_five_minutes_is_suspended_never_applied(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200

    clock.advance(timedelta(minutes=7, seconds=1))
    fire_due(scheduler, clock)

    missed = read(editor, change)
    assert (missed["state"], missed["schedule"]["status"], missed["schedule"]["reason"]) == (
        "approved",
        "suspended",
        "MISSED",
    )
    assert live_version(editor, flow) == 2


def test_a_schedule_whose_base_moved_is_suspended_and_nothing_else_changes(
    editor: Api, admin: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller
) -> None:
    # Given a scheduled publish, and a manual rollback to v1 after it was scheduled
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200
    rolled_back = admin.rollback(id=flow["id"], version=1)
    assert rolled_back.status == 200, rolled_back.body

    # When it fires
    clock.advance(timedelta(minutes=2))
    fire_due(scheduler, clock)

    # Then it is suspended with the problem's code; the request is neither blocked nor applied
    suspended = read(editor, change)
    assert suspended["schedule"]["status"] == "suspended"
    assert suspended["schedule"]["reason"] == "CHANGE_STALE"
    assert (suspended["state"], suspended["blocked"]) == ("approved", None)
    assert live_version(editor, flow) == rolled_back.body["liveVersion"]

    # And the history records the suspension
    assert ("schedule_suspended", "editor@a.example") in history_of(admin, stream, change)


def test_an_unscheduled_change_does_not_fire_and_applies_by_hand(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    flow, change = approved_publish(editor)
    run_at = clock() + timedelta(minutes=2)
    assert schedule(editor, change, timestamp(run_at)).status == 200
    # A schedule the scheduler still delivers: a crash after the write, before the delete
    left_behind = dict(scheduler.schedules)

    unscheduled = editor.request("POST", "/changes/unschedule", body={"changeId": change["changeId"]})

    assert (unscheduled.status, unscheduled.body["schedule"]) == (200, None)
    assert scheduler.schedules == {}
    scheduler.schedules.update(left_behind)
    clock.advance(timedelta(minutes=2))
    fire_due(scheduler, clock)
    assert (read(editor, change)["state"], live_version(editor, flow)) == ("approved", 2)
    assert review(editor, "unschedule", change).code == "SCHEDULE_NOT_PENDING"
    assert review(editor, "apply", change).status == 200


def test_a_rescheduled_change_fires_at_its_new_time_only(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a schedule moved from 2 to 10 minutes ahead, and its old time still delivered (a replace lost)
    flow, change = approved_publish(editor)
    first = clock() + timedelta(minutes=2)
    assert schedule(editor, change, timestamp(first)).status == 200
    later = clock() + timedelta(minutes=10)
    assert schedule(editor, change, timestamp(later)).body["schedule"]["runAt"] == timestamp(later)
    assert scheduler.schedules == {ScheduledJob.for_change(TENANT_A, change["changeId"]): later}

    # When the old time comes, nothing applies; at the new time, it does
    clock.advance(timedelta(minutes=2))
    wiring.schedule_service().fire(ScheduledJob.for_change(TENANT_A, change["changeId"]))
    assert (read(editor, change)["schedule"]["status"], live_version(editor, flow)) == ("pending", 2)
    clock.advance(timedelta(minutes=8))
    fire_due(scheduler, clock)
    assert (read(editor, change)["state"], live_version(editor, flow)) == ("applied", 3)


@pytest.mark.parametrize(
    ("ahead", "code"),
    [
        (timedelta(seconds=59), "SCHEDULE_OUT_OF_RANGE"),
        (timedelta(days=90, seconds=1), "SCHEDULE_OUT_OF_RANGE"),
        (-timedelta(minutes=5), "SCHEDULE_OUT_OF_RANGE"),
    ],
)
def test_run_at_is_one_minute_to_ninety_days_ahead(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, ahead: timedelta, code: str
) -> None:
    _, change = approved_publish(editor)

    refused = schedule(editor, change, timestamp(clock() + ahead))

    assert (refused.status, refused.code) == (422, code)
    assert (read(editor, change)["schedule"], scheduler.schedules) == (None, {})


@pytest.mark.parametrize("run_at", ["2026-12-24T09:00:00", "2026-02-30T09:00:00Z", "tomorrow", 1790000000])
def test_run_at_needs_an_offset_and_a_real_date(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, run_at: object
) -> None:
    _, change = approved_publish(editor)

    refused = editor.request("POST", "/changes/schedule", body={"changeId": change["changeId"], "runAt": run_at})

    assert (refused.status, refused.code) == (400, "VALIDATION_ERROR")


def test_a_pending_schedule_keeps_the_request_from_expiring(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(days=30))).status == 200

    clock.advance(timedelta(days=30))
    assert read(editor, change)["state"] == "approved"
    assert listed(editor, flow, "approved") == [change["changeId"]]
    assert listed(editor, flow, "expired") == []
    fire_due(scheduler, clock)

    assert (read(editor, change)["state"], live_version(editor, flow)) == ("applied", 3)


_PARIS = timezone(timedelta(hours=1))


def test_a_schedule_whose_flow_was_deleted_is_suspended(
    editor: Api, admin: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a scheduled publish whose flow is deleted (the stream consumer cancels its requests later)
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200
    assert admin.delete(flow["id"]).status == 204

    # When it fires
    clock.advance(timedelta(minutes=2))
    fire_due(scheduler, clock)

    # Then the schedule is suspended with the refusal's code, and nothing is applied
    refused = read(editor, change)
    assert (refused["state"], refused["schedule"]["status"]) == ("approved", "suspended")
    assert refused["schedule"]["reason"] == "FLOW_NOT_FOUND"


@pytest.mark.parametrize(("close", "closed_state"), [("cancel", "cancelled"), ("reject", "rejected")])
def test_a_scheduled_change_cancelled_or_rejected_never_fires(
    close: str, closed_state: str, editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a scheduled publish, whose schedule the scheduler would still deliver after a crash
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200
    left_behind = dict(scheduler.schedules)

    # When its author cancels it, or another editor rejects it
    closer = editor if close == "cancel" else reviewer(editor)
    closed = review(closer, close, change, None, **({"comment": "not this week"} if close == "reject" else {}))

    # Then its schedule is cancelled with it and deleted from the scheduler
    assert closed.status == 200, closed.body
    assert (closed.body["state"], closed.body["schedule"]["status"]) == (
        f"{close}ed".replace("led", "lled"),
        "cancelled",
    )
    assert scheduler.schedules == {}
    # And a schedule delivered anyway changes nothing
    scheduler.schedules.update(left_behind)
    clock.advance(timedelta(minutes=2))
    assert fire_due(scheduler, clock) == [Fired(ScheduledJob.for_change(TENANT_A, change["changeId"]))]
    assert (read(editor, change)["schedule"]["status"], live_version(editor, flow)) == ("cancelled", 2)


def test_deleting_a_flow_cancels_its_scheduled_change_and_its_schedule(
    editor: Api, admin: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller
) -> None:
    # Given a scheduled publish whose flow is deleted, and the stream consumer has run
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200
    assert admin.delete(flow["id"]).status == 204
    stream.deliver()

    # When the scheduler delivers it
    clock.advance(timedelta(minutes=2))
    fired = fire_due(scheduler, clock)

    # Then the request and its schedule read cancelled, and the firing did nothing
    cancelled = read(editor, change)
    assert (cancelled["state"], cancelled["schedule"]["status"]) == ("cancelled", "cancelled")
    assert fired == [Fired(ScheduledJob.for_change(TENANT_A, change["changeId"]))]


@pytest.mark.parametrize("run_at", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_run_at_past_the_calendars_ends_in_utc_is_out_of_range(editor: Api, run_at: str) -> None:
    # Given an approved request, and a runAt whose offset takes it past year 9999 or before year 1 in UTC
    _, change = approved_publish(editor)

    # Then scheduling it is refused as out of range, not a server error
    assert schedule(editor, change, run_at).code == "SCHEDULE_OUT_OF_RANGE"
