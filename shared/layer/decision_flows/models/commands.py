"""Request bodies of the flow commands, exactly as the contract names their fields (POST /validate's
is models.validation's: the compare function parses no command).

Strict scalars: ``"3"`` is not a version and ``"true"`` is not a boolean (enums still take their
JSON string values). Unknown and server-owned
fields are refused (``extra="forbid"``), so nothing a client sends can set ``tenantId``,
``liveVersion`` or the like. ``draftConfig`` is ``Any`` here on purpose: its checks are the
pipeline validator's, which reports 422 with every problem rather than a type error.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from decision_flows.models.body_fields import Counter, Description, Notes
from decision_flows.models.flow import FlowStatus
from decision_flows.models.identifiers import VERSION_RANGE, FlowId, FlowKey
from decision_flows.models.request_body import RequestBody

if TYPE_CHECKING:
    from pydantic import TypeAdapter

FlowName = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=255)]


def _share(value: Any) -> float:
    """A JSON number from 0 to less than 100 with at most two decimals (not a string, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a number")
    # An int is taken exactly: JSON integers have no size limit, and one past 1e308 has no float.
    exact = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if not 0 <= exact < 100 or exact != exact.quantize(Decimal("0.01")):
        raise ValueError("must be at least 0 and less than 100, with at most two decimals")
    return float(value)


# A challenger's share of subjects, in percent; stored as basis points (round(percent * 100)). 0 serves
# the challenger to the rollout's include list only.
Percent = Annotated[
    float,
    PlainValidator(_share),
    WithJsonSchema({"type": "number", "minimum": 0, "exclusiveMaximum": 100, "multipleOf": 0.01}),
]

MAX_OVERRIDES = 100
# The subjects of include and exclude together, as UTF-8: 200 subjects of 160 bytes (a UUID is 36). They
# live in the flow item beside a 300 KB draft, under DynamoDB's 400 KB, and in the live pointer every
# runtime read gets (4 KB per read unit).
MAX_OVERRIDE_BYTES = 32 * 1024
# As long as GET /live's ``subject`` may be, so every subject a caller can ask about can be named.
Subject = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)]


def _distinct(subjects: list[str]) -> list[str]:
    """A list of subjects is a set: a repeated subject counts once, and the order is the sorted one, so
    the same set is stored, compared and answered the same way however it was sent."""
    return sorted(set(subjects))


# Subjects a rollout always (include) or never (exclude) serves the challenger.
Subjects = Annotated[list[Subject], Field(max_length=MAX_OVERRIDES), AfterValidator(_distinct)]


class CreateFlowRequest(RequestBody):
    key: FlowKey
    name: FlowName
    description: Description | None = None
    status: FlowStatus = FlowStatus.DRAFT
    auto_assembly: StrictBool = True
    draft_config: Any = None


# An update may leave these fields out but not send them as null (400): only a description clears.
NOT_NULLABLE_ON_UPDATE = ("key", "name", "status", "auto_assembly", "draft_config")


class UpdateFlowRequest(RequestBody):
    """Only the fields present are changed; ``"description": null`` clears the description (the others
    refuse null: 400 VALIDATION_ERROR)."""

    id: FlowId
    key: FlowKey | None = None
    name: FlowName | None = None
    description: Description | None = None
    status: FlowStatus | None = None
    auto_assembly: StrictBool | None = None
    draft_config: Any = None
    row_version: Counter | None = None


def _refuse_null(value: Any, instead: str = "leave the field out") -> Any:
    """An optional field that is sent has a value: null is refused, as the documents say (REFUSED_NULLS)."""
    if value is None:
        raise ValueError(f"may not be null: {instead}")
    return value


MAX_PLAN_STEPS = 10
# What a plan's step does: exactly one of them, neither null.
PLAN_STEP_MOVES = ("percent", "promote")
# As a scheduled change's runAt: a step is a schedule, which fires with a minute's precision.
EARLIEST_PLAN_STEP = timedelta(minutes=1)
LATEST_PLAN_STEP = timedelta(days=90)
# ISO 8601 durations in weeks, days, hours, minutes and seconds: years and months have no fixed length.
PLAN_DELAY_PATTERN = r"^P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$"


@cache
def _durations() -> TypeAdapter[timedelta]:
    from pydantic import TypeAdapter  # only a plan's request needs it: not at the functions' init

    return TypeAdapter(timedelta)


def plan_delay(after: str) -> timedelta:
    """A plan step's ``after`` (an ISO 8601 duration, by its pattern) as a timedelta."""
    return _durations().validate_python(after)


def _within_plan(after: str) -> str:
    try:
        delay = plan_delay(after)
    except ValueError:  # "P" or "PT": the pattern's parts are all optional
        raise ValueError("must be an ISO 8601 duration such as PT1H") from None
    if not EARLIEST_PLAN_STEP <= delay <= LATEST_PLAN_STEP:
        raise ValueError("must be at least 1 minute (PT1M) and at most 90 days (P90D) after the rollout's start")
    return after


PlanDelay = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=40, pattern=PLAN_DELAY_PATTERN),
    AfterValidator(_within_plan),
    Field(json_schema_extra={"format": "duration"}),
]


class PlanStepRequest(RequestBody):
    """A later step of a rollout plan: ``after`` the rollout's start, to ``percent`` or ``promote``."""

    model_config = RequestBody.model_config | ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["percent"]}, {"required": ["promote"]}]}
    )

    after: PlanDelay
    percent: Percent | None = None
    promote: Annotated[bool, Strict(), WithJsonSchema({"type": "boolean", "const": True})] | None = None

    @field_validator(*PLAN_STEP_MOVES, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _refuse_null(value)

    @model_validator(mode="after")
    def _one_move(self) -> PlanStepRequest:
        if (self.percent is None) == (self.promote is None) or self.promote is False:
            raise ValueError("a step has exactly one of percent or promote: true")
        return self


class RolloutShare(RequestBody):
    """A staged rollout's start: the challenger's share, the subjects it always or never gets, and the
    plan of later steps (their order is checked with the share: flow_rules.check_plan)."""

    percent: Percent
    include: Subjects = Field(default_factory=list)
    exclude: Subjects = Field(default_factory=list)
    plan: Annotated[list[PlanStepRequest], Field(min_length=1, max_length=MAX_PLAN_STEPS)] | None = None


class PublishRequest(RequestBody):
    """With ``rollout``, the new version is published as the challenger of a staged rollout."""

    id: FlowId
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
    rollout: RolloutShare | None = None
    dry_run: StrictBool = False


class Emergency(RequestBody):
    """An admin's call made at once, past the review policy: only a rollback or an abort, which can
    only take a flow back to what was already live or published (the contract's Emergency changes)."""

    reason: Annotated[str, Strict(), StringConstraints(min_length=10, max_length=1000)]
    incident: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=200)] | None = None


class RollbackRequest(RequestBody):
    id: FlowId
    # Any integer of up to 18 digits: one that is no published version (0, -1) is 404 VERSION_NOT_FOUND.
    version: Annotated[int, Strict(), VERSION_RANGE]
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
    dry_run: StrictBool = False
    emergency: Emergency | None = None


# What POST /rollout may change; a field left out keeps its stored value.
ROLLOUT_SETTINGS = ("percent", "include", "exclude")


class RolloutRequest(RequestBody):
    """Change the challenger's share or overrides (a list sent replaces the stored one; one left out is
    kept); ``expectedCurrentVersion`` names the champion."""

    model_config = RequestBody.model_config | ConfigDict(
        json_schema_extra={"anyOf": [{"required": [setting]} for setting in ROLLOUT_SETTINGS]}
    )

    id: FlowId
    percent: Percent | None = None
    include: Subjects | None = None
    exclude: Subjects | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None

    @field_validator(*ROLLOUT_SETTINGS, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _refuse_null(value, "leave the field out to keep its stored value")

    @model_validator(mode="after")
    def _changes_something(self) -> RolloutRequest:
        if not self.model_fields_set & set(ROLLOUT_SETTINGS):
            raise ValueError("send at least one of percent, include or exclude")
        return self


class PromoteRequest(RequestBody):
    id: FlowId
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None


class AbortRequest(RequestBody):
    id: FlowId
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
    emergency: Emergency | None = None
