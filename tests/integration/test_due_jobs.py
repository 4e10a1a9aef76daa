"""The DueJobs index on the strict store: a change request is listed exactly while its schedule is
pending; the reader's bounds and pages; and the sweep that fires what is due, with the test clock,
whatever the Scheduler holds (a schedule lost between the DynamoDB write and the Scheduler call)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.dal import items, key_schema
from decision_flows.dal.changes import change_attributes
from decision_flows.dal.due_jobs import DueJobRepository
from decision_flows.domain.clock import timestamp
from decision_flows.domain.errors import StoreUnavailable
from decision_flows.domain.schedules import Fired
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows.settings import settings
from decision_flows_local.api.gateway import Api
from tests.integration.test_scheduled_changes import approved_publish, read, schedule
from tests.support.dynamodb_calls import DynamoCalls
from tests.support.schedulers import Clock, InMemoryScheduler
from tests.support.tenants import TENANT_A, TENANT_B

DUE_ATTRIBUTES = {"DuePK", "DueSK", "dueJob"}


def stored(dynamodb: Any, change: dict[str, Any]) -> dict[str, Any]:
    """Tenant A's request's item as the table holds it."""
    key = key_schema.key(
        key_schema.flow_pk(TENANT_A, change["flowId"]), key_schema.change_request_sk(change["changeId"])
    )
    return items.from_wire(dynamodb.get_item(TableName=settings().flows_table, Key=key)["Item"])


def listed_due(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name in DUE_ATTRIBUTES}


def due_listing(change: dict[str, Any], run_at: datetime) -> dict[str, Any]:
    job = ScheduledJob.for_change(TENANT_A, change["changeId"])
    return key_schema.due_attributes(run_at, job)


def scheduled(api: Api, clock: Clock, ahead: timedelta, key: str = "offers") -> dict[str, Any]:
    _, change = approved_publish(api, key)
    answer = schedule(api, change, timestamp(clock() + ahead))
    assert answer.status == 200, answer.body
    return change


def test_a_request_is_listed_due_exactly_while_its_schedule_is_pending(
    dynamodb: Any, editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given an approved request: not listed
    _, change = approved_publish(editor)
    assert listed_due(stored(dynamodb, change)) == {}

    # When it is scheduled, it is listed at its runAt; unscheduled, it is not
    first = clock() + timedelta(minutes=2)
    assert schedule(editor, change, timestamp(first)).status == 200
    assert listed_due(stored(dynamodb, change)) == due_listing(change, first)
    assert editor.request("POST", "/changes/unschedule", body={"changeId": change["changeId"]}).status == 200
    assert listed_due(stored(dynamodb, change)) == {}

    # When it is scheduled again, then moved, it is listed at the new time only
    assert schedule(editor, change, timestamp(first)).status == 200
    moved = clock() + timedelta(minutes=3)
    assert schedule(editor, change, timestamp(moved)).status == 200
    assert listed_due(stored(dynamodb, change)) == due_listing(change, moved)

    # When it fires and applies, it is no longer listed, and neither applying nor listing lost anything
    clock.advance(timedelta(minutes=3))
    assert [fired.status for fired in wiring.schedule_service().sweep()] == [ScheduleStatus.DONE]
    item = stored(dynamodb, change)
    assert listed_due(item) == {}
    assert item == change_attributes(wiring.change_repository().get_change(TENANT_A, change["changeId"]))  # type: ignore[arg-type]


def test_a_suspended_schedule_is_no_longer_listed_and_other_writes_keep_a_pending_one(
    dynamodb: Any, editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a scheduled request, and another write of it that leaves its schedule alone
    change = scheduled(editor, clock, timedelta(minutes=2))
    run_at = clock() + timedelta(minutes=2)
    changes = wiring.change_repository()
    previous = changes.get_change(TENANT_A, change["changeId"])
    assert previous is not None
    changes.save_change(
        previous, previous.model_copy(update={"row_version": previous.row_version + 1, "last_comment": "ok"})
    )
    assert listed_due(stored(dynamodb, change)) == due_listing(change, run_at)

    # When it is missed (swept more than 5 minutes late), it is suspended and leaves the index
    clock.advance(timedelta(minutes=8))
    assert [(fired.status, fired.reason) for fired in wiring.schedule_service().sweep()] == [
        (ScheduleStatus.SUSPENDED, "MISSED")
    ]
    assert listed_due(stored(dynamodb, change)) == {}
    assert wiring.due_jobs().due_by(clock()) == []


def put_due(dynamodb: Any, run_at: datetime, job: ScheduledJob, payload: Any = None) -> None:
    """An item listing ``job`` at ``run_at`` (its payload replaced by ``payload`` when given)."""
    listing = key_schema.due_attributes(run_at, job) | ({} if payload is None else {"dueJob": payload})
    item = {"PK": key_schema.flow_pk(job.tenant_id, "df_due"), "SK": f"CR#{job.name}", **listing}
    dynamodb.put_item(TableName=settings().flows_table, Item=items.to_wire(item))


def test_the_jobs_due_by_an_instant_are_every_tenants_soonest_first_through_every_page(dynamodb: Any) -> None:
    # Given jobs of both tenants, due before, at and after an instant, and one whose payload no job reads
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    due = [
        (now - timedelta(days=1), ScheduledJob.for_change(TENANT_B, "cr_yesterday")),
        (now - timedelta(minutes=1), ScheduledJob.for_plan_step(TENANT_A, "df_plan", 3, 1)),
        (now - timedelta(seconds=1), ScheduledJob.for_change(TENANT_B, "cr_second")),
        (now, ScheduledJob.for_change(TENANT_A, "cr_now")),
    ]
    not_yet = [
        (now + timedelta(milliseconds=1), ScheduledJob.for_change(TENANT_A, "cr_soon")),
        (now + timedelta(days=90), ScheduledJob.for_change(TENANT_B, "cr_later")),
    ]
    for run_at, job in [*not_yet, *reversed(due)]:
        put_due(dynamodb, run_at, job)
    put_due(dynamodb, now - timedelta(hours=1), ScheduledJob.for_change(TENANT_A, "cr_bad"), {"tenantId": TENANT_A})

    # And DynamoDB answering two items a page (as it does at 1 MB)
    queries: list[str] = []

    def two_a_page(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2
        queries.append(params.get("IndexName", ""))

    dynamodb.meta.events.register("before-parameter-build.dynamodb.Query", two_a_page)

    # When the jobs due at the instant are read
    found = DueJobRepository(dynamodb, settings().flows_table).due_by(now)

    # Then every due job is listed, soonest first, the unreadable one left out, over every page
    assert found == [job for _, job in due]
    assert queries == [key_schema.DUE_INDEX] * 3


def test_a_job_whose_schedule_was_lost_applies_when_swept_within_five_minutes(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler
) -> None:
    # Given a scheduled request whose Scheduler schedule was lost after the DynamoDB write
    change = scheduled(editor, clock, timedelta(minutes=2))
    scheduler.schedules.clear()

    # Then a sweep before runAt fires nothing
    clock.advance(timedelta(minutes=1, seconds=59))
    assert wiring.schedule_service().sweep() == []
    assert read(editor, change)["schedule"]["status"] == "pending"

    # When the sweeper runs 4 minutes after runAt (it runs every 5 minutes)
    clock.advance(timedelta(minutes=4, seconds=1))
    fired = wiring.schedule_service().sweep()

    # Then the request applied, once: the next sweep finds nothing due
    assert fired == [Fired(ScheduledJob.for_change(TENANT_A, change["changeId"]), ScheduleStatus.DONE)]
    assert (read(editor, change)["state"], read(editor, change)["schedule"]["status"]) == ("applied", "done")
    assert wiring.schedule_service().sweep() == []


class FailingFirst:
    """The change store, except that reading the first job's request fails with ``error``."""

    def __init__(self, store: Any, change_id: str, error: Exception) -> None:
        self._store, self._change_id, self._error = store, change_id, error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get_change(self, tenant_id: str, change_id: str) -> Any:
        if change_id == self._change_id:
            raise self._error
        return self._store.get_change(tenant_id, change_id)


@pytest.mark.parametrize(
    ("error", "raised"),
    [(StoreUnavailable("STORE_BUSY", "throttled"), True), (RuntimeError("a bug"), False)],
)
def test_one_failing_job_does_not_stop_the_next_and_a_transient_failure_is_raised_at_the_end(
    editor: Api,
    clock: Clock,
    scheduler: InMemoryScheduler,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    raised: bool,
) -> None:
    # Given two requests due a second apart, and the first one's firing failing
    first = scheduled(editor, clock, timedelta(minutes=2), key="offers")
    second = scheduled(editor, clock, timedelta(minutes=2, seconds=1), key="prices")
    service = wiring.schedule_service()
    monkeypatch.setattr(service, "_store", FailingFirst(service._store, first["changeId"], error))
    clock.advance(timedelta(minutes=3))

    # When the sweep runs
    if raised:
        with pytest.raises(StoreUnavailable):
            service.sweep()
    else:
        assert [fired.job.change_id for fired in service.sweep()] == [second["changeId"]]

    # Then the second applied all the same, and the first is still due: the next sweep applies it
    assert read(editor, second)["state"] == "applied"
    assert read(editor, first)["schedule"]["status"] == "pending"
    monkeypatch.undo()
    monkeypatch.setattr(service, "_clock", clock)
    assert [fired.status for fired in service.sweep()] == [ScheduleStatus.DONE]
    assert read(editor, first)["state"] == "applied"


def test_a_sweep_costs_one_query_and_each_due_job_its_firing(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, dynamo_calls: DynamoCalls
) -> None:
    # Given two requests due, and one not yet
    for key in ("offers", "prices"):
        scheduled(editor, clock, timedelta(minutes=2), key=key)
    scheduled(editor, clock, timedelta(minutes=10), key="later")

    # When nothing is due yet, a sweep is one Query
    clock.advance(timedelta(minutes=1, seconds=59))
    dynamo_calls.reset()
    assert wiring.schedule_service().sweep() == []
    assert dynamo_calls.by_operation() == {"Query": 1}

    # When two are due, each adds what a manual apply costs: the request, the policy, the flow, the write
    clock.advance(timedelta(seconds=1))
    dynamo_calls.reset()
    assert len(wiring.schedule_service().sweep()) == 2
    assert dynamo_calls.by_operation() == {"Query": 1, "GetItem": 2 * 3, "TransactWriteItems": 2 * 1}
