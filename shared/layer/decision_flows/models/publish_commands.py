"""The body of POST /publish (PublishFunction), with the staged rollout and its plan that a publish
may start; strict as every flow command (``draft_commands``)."""

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from decision_flows.models.body_fields import Counter, Notes, Percent, Subjects, refuse_null
from decision_flows.models.identifiers import FlowId
from decision_flows.models.request_body import RequestBody

if TYPE_CHECKING:
    from pydantic import TypeAdapter

MAX_PLAN_STEPS = 10
# What a plan's step does: exactly one of them, neither null.
PLAN_STEP_MOVES = ("percent", "promote")
# As a scheduled change's runAt: a step is a schedule, which fires with a minute's precision.
EARLIEST_PLAN_STEP = timedelta(minutes=1)
LATEST_PLAN_STEP = timedelta(days=90)
# ISO 8601 durations in weeks, days, hours, minutes and seconds: years and months have no fixed length.
PLAN_DELAY_PATTERN = r"^P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$"


@cache
def _durations() -> "TypeAdapter[timedelta]":
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

    @property
    def delay(self) -> timedelta:
        """How long after the rollout's start the step runs: read by the domain, which so needs no
        import of this module (a function that never publishes does not define these bodies)."""
        return plan_delay(self.after)

    @field_validator(*PLAN_STEP_MOVES, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    @model_validator(mode="after")
    def _one_move(self) -> Self:
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
