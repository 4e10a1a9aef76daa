"""ScheduleFunction: what wakes scheduled jobs on AWS.

Two callers, told apart by the event. EventBridge Scheduler delivers a job's schedule Input (the
job's payload, models/scheduled_job.py) at its runAt; the sweeper's rule delivers ``{"sweep": true}``
every minute, to settle the jobs whose schedule never fired. A store that fails raises, so
that the invocation is retried and, past its retries, lands in the schedules' dead-letter queue; a
payload that names no job is logged and dropped, as retrying it could only fail again.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from decision_flows.startup import modules_loaded

from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows.observability import Metric, count, logger, publish_metrics
from decision_flows.wiring import schedule_service

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from decision_flows.domain.schedules import Fired

SWEEP_EVENT = {"sweep": True}
# How early a delivery may come: EventBridge Scheduler invokes within the minute of its at().
EARLY_DELIVERY = timedelta(minutes=1)


@publish_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    if event == SWEEP_EVENT:
        fired = schedule_service().sweep()
    else:
        job = _job(event)
        if job is None:
            return {"dropped": 1}
        fired = [_fire_at_run_at(job)]
    suspended = [outcome for outcome in fired if outcome.status == ScheduleStatus.SUSPENDED]
    for outcome in suspended:
        logger.warning("schedule suspended", extra={"job": outcome.job.payload(), "reason": outcome.reason})
    if suspended:
        count(Metric.SCHEDULES_SUSPENDED, len(suspended))
    return _summary(fired)


def _fire_at_run_at(job: ScheduledJob) -> Fired:
    """Fire the job; delivered within the minute before its runAt (Scheduler's precision), wait for it."""
    fired = schedule_service().fire(job)
    if fired.early_by is not None and fired.early_by <= EARLY_DELIVERY:
        time.sleep(fired.early_by.total_seconds())
        fired = schedule_service().fire(job)
    return fired


def _job(event: Any) -> ScheduledJob | None:
    try:
        return ScheduledJob.from_payload(event)
    except (KeyError, TypeError, ValueError):
        logger.error("dropped an event that names no scheduled job", extra={"event": repr(event)[:1000]})
        return None


def _summary(fired: list[Fired]) -> dict[str, Any]:
    statuses = [outcome.status.value if outcome.status else "nothing" for outcome in fired]
    return {status: statuses.count(status) for status in sorted(set(statuses))}


# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
