"""Every function's configuration: template.yaml's Globals environment, validated once.

Every table name and limit lives here, read from the environment in this one place. ``wiring``
validates it when a function's code is imported (Lambda's init phase), so a function deployed with
a missing or malformed variable fails its cold start, not some later request. The DynamoDB endpoint
(a local store) is the client's own setting (``dal.client``).
"""

import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from decision_flows.environment import TABLE_NAME_CHARACTERS, TABLE_NAME_LENGTHS

TableName = Annotated[
    str,
    Field(min_length=TABLE_NAME_LENGTHS.start, max_length=TABLE_NAME_LENGTHS.stop - 1, pattern=TABLE_NAME_CHARACTERS),
]
DEFAULT_REQUESTS_PER_MINUTE = 500
# EventBridge Scheduler's and IAM's rules for the names and ARNs a schedule is made with, checked with re
# only when they are set (as pydantic patterns, their schema would cost every function's cold start).
_PARTITION_REGION_ACCOUNT = r"arn:aws[a-z-]*:{service}:[a-z0-9-]+:[0-9]{{12}}"
_SCHEDULER_PATTERNS = {
    "SCHEDULE_GROUP_NAME": r"[0-9A-Za-z_.-]{1,64}",
    "SCHEDULE_TARGET_ARN": _PARTITION_REGION_ACCOUNT.format(service="lambda") + r":function:[A-Za-z0-9_-]{1,64}",
    "SCHEDULER_ROLE_ARN": r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}",
    "SCHEDULE_DEAD_LETTER_ARN": _PARTITION_REGION_ACCOUNT.format(service="sqs") + r":[A-Za-z0-9_-]{1,80}(\.fifo)?",
}


@dataclass(frozen=True)
class ScheduleTarget:
    """Where EventBridge Scheduler's schedules live and what they invoke (template.yaml's ScheduleGroup,
    ScheduleFunction, SchedulerRole and SchedulesDeadLetterQueue), as Settings validated them (a plain
    dataclass: a second model would cost every cold start its schema)."""

    group_name: str
    function_arn: str
    role_arn: str
    dead_letter_arn: str


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    flows_table: TableName = Field(validation_alias="TABLE_NAME")
    idempotency_table: TableName = Field(validation_alias="IDEMPOTENCY_TABLE_NAME")
    api_keys_table: TableName = Field(validation_alias="API_KEYS_TABLE_NAME")
    rate_limit_table: TableName = Field(validation_alias="RATE_LIMIT_TABLE_NAME")
    changes_table: TableName = Field(validation_alias="CHANGES_TABLE_NAME")
    live_table: TableName = Field(validation_alias="LIVE_TABLE_NAME")
    # Per tenant and 60-second window; 0 turns the rate limit off.
    requests_per_minute: int = Field(
        default=DEFAULT_REQUESTS_PER_MINUTE, ge=0, validation_alias="RATE_LIMIT_PER_MINUTE"
    )
    # EventBridge Scheduler on AWS: all four or none (none: `make serve` and the tests sweep the store).
    schedule_group: str | None = Field(default=None, validation_alias="SCHEDULE_GROUP_NAME")
    schedule_target_arn: str | None = Field(default=None, validation_alias="SCHEDULE_TARGET_ARN")
    scheduler_role_arn: str | None = Field(default=None, validation_alias="SCHEDULER_ROLE_ARN")
    schedule_dead_letter_arn: str | None = Field(default=None, validation_alias="SCHEDULE_DEAD_LETTER_ARN")

    @field_validator(
        "schedule_group", "schedule_target_arn", "scheduler_role_arn", "schedule_dead_letter_arn", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _scheduler_all_or_none(self) -> Self:
        values = (self.schedule_group, self.schedule_target_arn, self.scheduler_role_arn, self.schedule_dead_letter_arn)
        if any(value is None for value in values) and any(value is not None for value in values):
            raise ValueError(
                "SCHEDULE_GROUP_NAME, SCHEDULE_TARGET_ARN, SCHEDULER_ROLE_ARN and SCHEDULE_DEAD_LETTER_ARN"
                " are set together or not at all"
            )
        for (variable, pattern), value in zip(_SCHEDULER_PATTERNS.items(), values, strict=True):
            if value is not None and re.fullmatch(pattern, value) is None:
                raise ValueError(f"{variable} {value!r} does not match {pattern}")
        return self

    @property
    def schedule_target(self) -> ScheduleTarget | None:
        """EventBridge Scheduler's settings when the function runs on AWS, else None."""
        group, function_arn, role_arn, dead_letter_arn = (
            self.schedule_group,
            self.schedule_target_arn,
            self.scheduler_role_arn,
            self.schedule_dead_letter_arn,
        )
        if group is None or function_arn is None or role_arn is None or dead_letter_arn is None:
            return None  # all four or none: validated
        return ScheduleTarget(group, function_arn, role_arn, dead_letter_arn)


@cache
def settings() -> Settings:
    return Settings.model_validate(os.environ)
