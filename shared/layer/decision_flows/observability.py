"""The one Logger and the one Metrics every function uses (service, namespace and level come from
the environment). Metrics are CloudWatch embedded metric format: lines in the function's log that
CloudWatch turns into metrics, with no call of their own. ``Metric`` names every one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
metrics = Metrics()


class Metric(StrEnum):
    """Every business event counted, where it happens (the dashboard in template.yaml plots them)."""

    PUBLISHES = "Publishes"
    ROLLBACKS = "Rollbacks"
    ROLLOUTS_CHANGED = "RolloutsChanged"
    ROLLOUTS_PROMOTED = "RolloutsPromoted"
    ROLLOUTS_ABORTED = "RolloutsAborted"
    EMERGENCY_CHANGES = "EmergencyChanges"  # rollbacks and aborts made past review (alarmed)
    SCHEDULES_SUSPENDED = "SchedulesSuspended"  # scheduled jobs that could not apply, or missed (alarmed)
    IDEMPOTENT_REPLAYS = "IdempotentReplays"
    LIVE_READS = "LiveReads"
    LIVE_VERSION_SERVED = "LiveVersionServed"  # by FlowId, Version and Role
    RATE_LIMITED = "RateLimited"  # 429s
    CONFLICTS = "Conflicts"  # 409s, by Code
    STREAM_RECORDS_PROCESSED = "StreamRecordsProcessed"
    STREAM_RECORDS_FAILED = "StreamRecordsFailed"


def count(name: Metric, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_refusal(status: int, code: str) -> None:
    """A 409 counts as a conflict of its code (one metric of its own: the code is its dimension)."""
    if status == 429:
        count(Metric.RATE_LIMITED)
    elif status == 409 and not is_metrics_disabled():  # single_metric writes even when disabled
        with single_metric(name=Metric.CONFLICTS, unit=MetricUnit.Count, value=1) as conflict:
            conflict.add_dimension(name="Code", value=code)


def count_served(flow_id: str, version: int, role: str) -> None:
    """A /live answer (200 or 304), by the flow, version and role it served: each version's share."""
    if not is_metrics_disabled():  # single_metric writes even when disabled
        with single_metric(name=Metric.LIVE_VERSION_SERVED, unit=MetricUnit.Count, value=1) as served:
            served.add_dimension(name="FlowId", value=flow_id)
            served.add_dimension(name="Version", value=str(version))
            served.add_dimension(name="Role", value=role)


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def publish_metrics(handler: Handler) -> Handler:
    """Write the invocation's metrics at its end, if it counted any (Powertools' own ``log_metrics``
    warns on every invocation that counted none)."""

    @wraps(handler)
    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()
            metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, flushing keeps them

    return invoke


def instrumented(handler: Handler) -> Handler:
    """An API function's ``lambda_handler``: logs carry the request's correlation id, and the
    invocation's metrics are written at its end."""
    return publish_metrics(
        logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)(handler)
    )
