"""ScheduleFunction's dispatch, with the schedule service replaced: a delivered job is fired, the
sweeper's event sweeps, each suspension is counted, a payload naming no job is dropped, and a store
that fails makes the invocation fail (so that it is retried, then dead-lettered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from decision_flows.domain.errors import StoreUnavailable
from decision_flows.domain.schedules import Fired
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows_local import template
from decision_flows_local.api.gateway import LambdaContext
from tests.integration.test_metrics import SERVICE, Emitted

CHANGE = ScheduledJob.for_change("tenant-a", "cr_0192f0a1b2c3d4e5f6a7_flow-1")
STEP = ScheduledJob.for_plan_step("tenant-a", "flow-1", 3, 1)


@dataclass
class FakeSchedules:
    """What the handler asked of the schedule service, and what it answers."""

    answers: list[Fired] = field(default_factory=list)
    fired: list[ScheduledJob] = field(default_factory=list)
    sweeps: int = 0
    failure: Exception | None = None

    def fire(self, job: ScheduledJob) -> Fired:
        self.fired.append(job)
        if self.failure:
            raise self.failure
        return self.answers.pop(0)

    def sweep(self) -> list[Fired]:
        self.sweeps += 1
        return self.answers


@pytest.fixture
def schedules(monkeypatch: pytest.MonkeyPatch) -> FakeSchedules:
    fake = FakeSchedules()
    monkeypatch.setattr(template.handler_module("ScheduleFunction"), "schedule_service", lambda: fake)
    return fake


def invoke(event: Any) -> Any:
    return template.handler("ScheduleFunction")(event, LambdaContext())


@pytest.mark.parametrize("job", [CHANGE, STEP])
def test_a_delivered_job_is_fired(schedules: FakeSchedules, job: ScheduledJob) -> None:
    schedules.answers = [Fired(job, ScheduleStatus.DONE)]

    assert invoke(job.payload()) == {"done": 1}

    assert (schedules.fired, schedules.sweeps) == ([job], 0)


def test_the_sweepers_event_sweeps(schedules: FakeSchedules) -> None:
    schedules.answers = [Fired(CHANGE, ScheduleStatus.SUSPENDED, "MISSED"), Fired(STEP)]

    assert invoke({"sweep": True}) == {"nothing": 1, "suspended": 1}

    assert (schedules.fired, schedules.sweeps) == ([], 1)


def test_each_suspension_is_counted_and_logged(
    schedules: FakeSchedules, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    emitted = Emitted(capsys)
    schedules.answers = [
        Fired(CHANGE, ScheduleStatus.SUSPENDED, "MISSED"),
        Fired(STEP, ScheduleStatus.SUSPENDED, "FLOW_NOT_FOUND"),
        Fired(CHANGE, ScheduleStatus.DONE),
    ]
    invoke({"sweep": True})

    assert emitted.read()[("SchedulesSuspended", SERVICE)] == 2
    reasons = [record.reason for record in caplog.records if record.message == "schedule suspended"]  # type: ignore[attr-defined]
    assert reasons == ["MISSED", "FLOW_NOT_FOUND"]


def test_nothing_suspended_is_no_metric(schedules: FakeSchedules, capsys: pytest.CaptureFixture[str]) -> None:
    emitted = Emitted(capsys)
    schedules.answers = [Fired(CHANGE, ScheduleStatus.DONE)]
    invoke(CHANGE.payload())
    assert emitted.read()[("SchedulesSuspended", SERVICE)] == 0


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"changeId": "cr_0192f0a1b2c3d4e5f6a7_flow-1"},  # no tenant
        {"tenantId": "tenant-a", "flowId": "flow-1", "challengerVersion": "three", "step": 1},
        {"tenantId": "tenant-a", "flowId": "flow-1"},
        {"sweep": "yes"},
        ["not", "an", "object"],
        "text",
        None,
    ],
)
def test_a_payload_naming_no_job_is_logged_and_dropped(
    schedules: FakeSchedules, event: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert invoke(event) == {"dropped": 1}

    assert (schedules.fired, schedules.sweeps) == ([], 0)
    assert [record.levelname for record in caplog.records if "names no scheduled job" in record.message] == ["ERROR"]


def test_a_store_that_fails_fails_the_invocation_so_it_is_retried(schedules: FakeSchedules) -> None:
    schedules.failure = StoreUnavailable("STORE_BUSY", "throttled")

    with pytest.raises(StoreUnavailable):
        invoke(CHANGE.payload())


def test_a_delivery_within_the_minute_before_run_at_waits_for_it_then_fires(
    schedules: FakeSchedules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job delivered 40 s before its runAt (Scheduler invokes within the minute of its at())
    slept: list[float] = []
    monkeypatch.setattr(template.handler_module("ScheduleFunction").time, "sleep", slept.append)
    schedules.answers = [Fired(CHANGE, early_by=timedelta(seconds=40)), Fired(CHANGE, ScheduleStatus.DONE)]

    # When it is delivered
    summary = invoke(CHANGE.payload())

    # Then the function waited out the 40 s and fired it again, at its runAt
    assert (slept, schedules.fired, summary) == ([40.0], [CHANGE, CHANGE], {"done": 1})


def test_a_delivery_more_than_a_minute_early_is_not_waited_for(
    schedules: FakeSchedules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the old time of a schedule a reschedule moved an hour later
    slept: list[float] = []
    monkeypatch.setattr(template.handler_module("ScheduleFunction").time, "sleep", slept.append)
    schedules.answers = [Fired(CHANGE, early_by=timedelta(hours=1))]

    # Then it does nothing: its own schedule comes at the new time
    assert (invoke(CHANGE.payload()), slept) == ({"nothing": 1}, [])
