"""The Scheduler port on EventBridge Scheduler: one one-time schedule per job, in the stack's group.

Each schedule invokes the firing function (ScheduleFunction) once at ``at()``, through the stack's
execution role, and is deleted by EventBridge Scheduler once it has fired. The job's DynamoDB write
comes before these calls (domain/schedules.py), so a call that fails here leaves a job the sweeper
finds; the caller gets 503 STORE_BUSY and may retry, which replaces the schedule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from decision_flows.domain.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

    from decision_flows.models.scheduled_job import ScheduledJob
    from decision_flows.settings import ScheduleTarget

# Past five minutes the firing suspends the job as MISSED (domain/schedules.py): delivering it later
# than that could only record the miss, which the sweeper does anyway.
MAXIMUM_EVENT_AGE_SECONDS = 300
RETRY_ATTEMPTS = 3
THROTTLING_CODES = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
SERVER_ERROR_STATUS = 500


class EventBridgeScheduler:
    def __init__(self, target: ScheduleTarget, client: Callable[[], EventBridgeSchedulerClient]) -> None:
        self._target = target
        self._make_client = client
        self._client: EventBridgeSchedulerClient | None = None

    def put_schedule(self, job: ScheduledJob, run_at: datetime) -> None:
        """Create the job's schedule; one that exists (a reschedule, or a retried request) is replaced
        with the same settings, and one that fired and left between the two calls is created again."""
        schedule = self._schedule(job, run_at)
        client = self._scheduler()
        try:
            _call(client.create_schedule, **schedule)
        except ClientError as error:
            if _code(error) != "ConflictException":
                raise
            try:
                _call(client.update_schedule, **schedule)
            except ClientError as gone:
                if _code(gone) != "ResourceNotFoundException":
                    raise
                _call(client.create_schedule, **schedule)

    def delete_schedule(self, job: ScheduledJob) -> None:
        try:
            _call(self._scheduler().delete_schedule, Name=job.name, GroupName=self._target.group_name)
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":  # none, or fired and deleted already: done
                raise

    def _schedule(self, job: ScheduledJob, run_at: datetime) -> dict[str, Any]:
        target = self._target
        return {
            "Name": job.name,
            "GroupName": target.group_name,
            "ScheduleExpression": at_expression(run_at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": target.function_arn,
                "RoleArn": target.role_arn,
                "Input": json.dumps(job.payload(), separators=(",", ":")),
                "RetryPolicy": {
                    "MaximumEventAgeInSeconds": MAXIMUM_EVENT_AGE_SECONDS,
                    "MaximumRetryAttempts": RETRY_ATTEMPTS,
                },
                "DeadLetterConfig": {"Arn": target.dead_letter_arn},
            },
        }

    def _scheduler(self) -> EventBridgeSchedulerClient:
        if self._client is None:
            self._client = self._make_client()
        return self._client


def at_expression(run_at: datetime, now: datetime | None = None) -> str:
    """``at()`` in UTC: runAt's minute. Scheduler invokes a one-time schedule within the minute of its
    ``at()`` (60-second precision: at 09:00 → 09:00:00 to 09:00:59), so a delivery may come up to 59 s
    before runAt, and ScheduleFunction waits those out; at the next minute, never in the past, when
    runAt's has begun (a plan's next step made late: the sweep may well fire it first)."""
    minute = run_at.astimezone(UTC).replace(second=0, microsecond=0)
    earliest = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return f"at({max(minute, earliest):%Y-%m-%dT%H:%M:%S})"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _call(operation: Callable[..., object], **request: Any) -> None:
    """One Scheduler call: throttling, its 5xx and no connection, once the SDK's retries are spent,
    are the 503 any dependency's failure is; other errors stay as they are."""
    try:
        operation(**request)
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if _code(error) in THROTTLING_CODES or status >= SERVER_ERROR_STATUS:
            raise _busy() from error
        raise
    except (ConnectionError, HTTPClientError) as error:
        raise _busy() from error


def _busy() -> StoreUnavailable:
    return StoreUnavailable("STORE_BUSY", "The scheduler did not answer; retry shortly.")
