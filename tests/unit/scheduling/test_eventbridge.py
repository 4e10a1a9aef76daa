"""The Scheduler port on EventBridge Scheduler, against moto's scheduler (which stores schedules and
never fires them): what a schedule is made with, replacing, deleting, and failures as 503."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws

from decision_flows.dal.client import client_config
from decision_flows.domain.errors import StoreUnavailable
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows.scheduling.eventbridge import EventBridgeScheduler, at_expression
from decision_flows.settings import ScheduleTarget

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

TARGET = ScheduleTarget(
    group_name="dfstack-schedules",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:dfstack-schedules",
    role_arn="arn:aws:iam::123456789012:role/dfstack-SchedulerRole-1A2B",
    dead_letter_arn="arn:aws:sqs:us-east-1:123456789012:dfstack-SchedulesDeadLetterQueue-1A2B",
)
CHANGE = ScheduledJob.for_change("tenant-a", "cr_0192f0a1b2c3d4e5f6a7_flow-1")
STEP = ScheduledJob.for_plan_step("tenant-a", "flow-1", 3, 1)
RUN_AT = datetime(2099, 12, 24, 9, 0, tzinfo=UTC)  # ahead of the adapter's clock, whenever the test runs


@pytest.fixture
def client() -> Iterator[EventBridgeSchedulerClient]:
    with mock_aws():
        scheduler = boto3.client("scheduler", region_name="us-east-1", config=client_config())
        scheduler.create_schedule_group(Name=TARGET.group_name)
        yield scheduler


def adapter(client: EventBridgeSchedulerClient) -> EventBridgeScheduler:
    return EventBridgeScheduler(TARGET, lambda: client)


def stored(client: EventBridgeSchedulerClient, job: ScheduledJob) -> Any:
    return client.get_schedule(Name=job.name, GroupName=TARGET.group_name)


def test_a_job_becomes_a_one_time_schedule_that_invokes_the_firing_function_once(
    client: EventBridgeSchedulerClient,
) -> None:
    # When a change request's job is scheduled
    adapter(client).put_schedule(CHANGE, RUN_AT)

    # Then its schedule, read back, fires once at runAt in UTC and is deleted after
    schedule = stored(client, CHANGE)
    assert schedule["ScheduleExpression"] == "at(2099-12-24T09:00:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    # and invokes the firing function through the execution role with the job, retrying briefly
    target = schedule["Target"]
    assert (target["Arn"], target["RoleArn"]) == (TARGET.function_arn, TARGET.role_arn)
    assert json.loads(target["Input"]) == {"tenantId": "tenant-a", "changeId": "cr_0192f0a1b2c3d4e5f6a7_flow-1"}
    assert ScheduledJob.from_payload(json.loads(target["Input"])) == CHANGE
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 3}
    assert target["DeadLetterConfig"] == {"Arn": TARGET.dead_letter_arn}


def test_a_job_scheduled_again_replaces_its_schedule(client: EventBridgeSchedulerClient) -> None:
    # Given a rollout step's schedule
    scheduler = adapter(client)
    scheduler.put_schedule(STEP, RUN_AT)

    # When the same job is scheduled for another time (a reschedule, or a retried request)
    scheduler.put_schedule(STEP, RUN_AT + timedelta(hours=1))

    # Then one schedule holds the new time
    (listed,) = client.list_schedules(GroupName=TARGET.group_name)["Schedules"]
    assert listed["Name"] == STEP.name
    assert stored(client, STEP)["ScheduleExpression"] == "at(2099-12-24T10:00:00)"


def test_deleting_a_schedule_twice_or_one_never_made_is_no_error(client: EventBridgeSchedulerClient) -> None:
    scheduler = adapter(client)
    scheduler.put_schedule(CHANGE, RUN_AT)
    scheduler.put_schedule(STEP, RUN_AT)

    scheduler.delete_schedule(CHANGE)
    scheduler.delete_schedule(CHANGE)  # fired and deleted by Scheduler already, or a retried call

    names = [schedule["Name"] for schedule in client.list_schedules(GroupName=TARGET.group_name)["Schedules"]]
    assert names == [STEP.name]


NOW = datetime(2026, 12, 24, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("run_at", "expression"),
    [
        (datetime(2026, 12, 24, 9, 0, 0, tzinfo=UTC), "at(2026-12-24T09:00:00)"),
        (datetime(2026, 12, 24, 9, 0, 30, 1, tzinfo=UTC), "at(2026-12-24T09:00:00)"),  # delivered 09:00:00-59
        (datetime(2026, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC), "at(2026-12-31T23:59:00)"),
        (datetime(2026, 12, 24, 10, 0, 0, 500_000, tzinfo=timezone(timedelta(hours=1))), "at(2026-12-24T09:00:00)"),
        (datetime(2026, 12, 24, 8, 0, 20, tzinfo=UTC), "at(2026-12-24T08:01:00)"),  # its minute has begun
        (datetime(2026, 12, 24, 7, 0, 0, tzinfo=UTC), "at(2026-12-24T08:01:00)"),  # due already: never past
    ],
)
def test_at_is_utc_run_ats_minute_and_never_in_the_past(run_at: datetime, expression: str) -> None:
    # EventBridge Scheduler invokes within the minute of at() (60-second precision)
    assert at_expression(run_at, NOW) == expression


def test_the_client_is_made_on_the_first_call_not_before() -> None:
    made: list[str] = []

    def factory() -> Any:
        made.append("client")
        raise RuntimeError("no AWS here")

    scheduler = EventBridgeScheduler(TARGET, factory)
    assert made == []
    with pytest.raises(RuntimeError):
        scheduler.delete_schedule(CHANGE)
    assert made == ["client"]


def failing(code: str, status: int) -> Iterator[EventBridgeSchedulerClient]:
    client = boto3.client("scheduler", region_name="us-east-1", config=client_config())
    with Stubber(client) as stubber:
        stubber.add_client_error("create_schedule", service_error_code=code, http_status_code=status)
        stubber.add_client_error("delete_schedule", service_error_code=code, http_status_code=status)
        yield client


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", 429), ("InternalServerException", 500), ("ServiceUnavailable", 503)]
)
def test_a_scheduler_that_throttles_or_fails_is_503_store_busy(code: str, status: int) -> None:
    for client in failing(code, status):
        scheduler = adapter(client)
        with pytest.raises(StoreUnavailable) as refused:
            scheduler.put_schedule(CHANGE, RUN_AT)
        assert (refused.value.code, refused.value.retry_after_seconds) == ("STORE_BUSY", 1)
        with pytest.raises(StoreUnavailable):
            scheduler.delete_schedule(CHANGE)


def test_a_scheduler_out_of_reach_is_503_store_busy() -> None:
    client = boto3.client("scheduler", region_name="us-east-1", config=client_config())

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://scheduler.us-east-1.amazonaws.com")

    client.create_schedule = unreachable  # type: ignore[method-assign,assignment]
    with pytest.raises(StoreUnavailable):
        adapter(client).put_schedule(CHANGE, RUN_AT)


def test_a_refused_schedule_is_not_disguised_as_a_busy_scheduler() -> None:
    # A request Scheduler refuses (a role it may not assume) is a defect of ours: it stays itself.
    for client in failing("ValidationException", 400):
        with pytest.raises(ClientError, match="ValidationException"):
            adapter(client).put_schedule(CHANGE, RUN_AT)


def test_a_schedule_that_fired_between_create_and_replace_is_created_again() -> None:
    # Given Scheduler that finds the schedule on create, then has deleted it (fired) by the replace
    client = boto3.client("scheduler", region_name="us-east-1", config=client_config())
    with Stubber(client) as stubber:
        stubber.add_client_error("create_schedule", service_error_code="ConflictException", http_status_code=409)
        stubber.add_client_error(
            "update_schedule", service_error_code="ResourceNotFoundException", http_status_code=404
        )
        stubber.add_response(
            "create_schedule",
            {"ScheduleArn": f"arn:aws:scheduler:us-east-1:123456789012:schedule/{TARGET.group_name}/{CHANGE.name}"},
        )

        # When the job is scheduled
        adapter(client).put_schedule(CHANGE, RUN_AT)

        # Then all three calls were made: the job has its schedule
        stubber.assert_no_pending_responses()
