"""Every function's configuration: template.yaml's Globals environment, validated once.

Every table name and limit lives here, read from the environment in this one place. ``wiring``
validates it when a function's code is imported (Lambda's init phase), so a function deployed with
a missing or malformed variable fails its cold start, not some later request. The DynamoDB endpoint
(a local store) is the client's own setting (``dal.client``). NamedTuples checked by hand, as
``environment`` does for the authorizer: as a pydantic model, the settings cost every cold start ≈3 ms
(and as frozen dataclasses ≈1 ms; see decision_flows/startup.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from typing import NamedTuple

from decision_flows.environment import table_name, whole_number

DEFAULT_REQUESTS_PER_MINUTE = 500
# EventBridge Scheduler's and IAM's rules for the names and ARNs a schedule is made with.
_PARTITION_REGION_ACCOUNT = r"arn:aws[a-z-]*:{service}:[a-z0-9-]+:[0-9]{{12}}"
_SCHEDULER_PATTERNS = {
    "SCHEDULE_GROUP_NAME": r"[0-9A-Za-z_.-]{1,64}",
    "SCHEDULE_TARGET_ARN": _PARTITION_REGION_ACCOUNT.format(service="lambda") + r":function:[A-Za-z0-9_-]{1,64}",
    "SCHEDULER_ROLE_ARN": r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}",
    "SCHEDULE_DEAD_LETTER_ARN": _PARTITION_REGION_ACCOUNT.format(service="sqs") + r":[A-Za-z0-9_-]{1,80}(\.fifo)?",
}


class ScheduleTarget(NamedTuple):
    """Where EventBridge Scheduler's schedules live and what they invoke (template.yaml's ScheduleGroup,
    ScheduleFunction, SchedulerRole and SchedulesDeadLetterQueue)."""

    group_name: str
    function_arn: str
    role_arn: str
    dead_letter_arn: str


class Settings(NamedTuple):
    flows_table: str
    idempotency_table: str
    api_keys_table: str
    rate_limit_table: str
    changes_table: str
    live_table: str
    # Per tenant and 60-second window; 0 turns the rate limit off.
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    # EventBridge Scheduler on AWS; None where the store is swept (`make serve`, the tests).
    schedule_target: ScheduleTarget | None = None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> Settings:
        """The settings, or ValueError naming the variable that is missing or malformed."""
        return cls(
            flows_table=table_name("TABLE_NAME", environment),
            idempotency_table=table_name("IDEMPOTENCY_TABLE_NAME", environment),
            api_keys_table=table_name("API_KEYS_TABLE_NAME", environment),
            rate_limit_table=table_name("RATE_LIMIT_TABLE_NAME", environment),
            changes_table=table_name("CHANGES_TABLE_NAME", environment),
            live_table=table_name("LIVE_TABLE_NAME", environment),
            requests_per_minute=whole_number("RATE_LIMIT_PER_MINUTE", environment, DEFAULT_REQUESTS_PER_MINUTE),
            schedule_target=_schedule_target(environment),
        )


def _schedule_target(environment: Mapping[str, str]) -> ScheduleTarget | None:
    """All four SCHEDULE_* variables or none (empty counts as unset: the template's local values)."""
    values = [environment.get(variable) or None for variable in _SCHEDULER_PATTERNS]
    if all(value is None for value in values):
        return None
    if any(value is None for value in values):
        raise ValueError(f"{', '.join(_SCHEDULER_PATTERNS)} are set together or not at all")
    for (variable, pattern), value in zip(_SCHEDULER_PATTERNS.items(), values, strict=True):
        if re.fullmatch(pattern, str(value)) is None:
            raise ValueError(f"{variable} {value!r} does not match {pattern}")
    group, function_arn, role_arn, dead_letter_arn = (str(value) for value in values)
    return ScheduleTarget(group, function_arn, role_arn, dead_letter_arn)


@cache
def settings() -> Settings:
    return Settings.from_environment(os.environ)
