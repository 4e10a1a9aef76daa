"""A rollout plan's steps as flows (``rollout.plan``) and history entries (plan_cancelled) show them."""

from typing import Self

from decision_flows.models.flow import PlanStep, ScheduleStatus
from decision_flows.web.views.body import ResponseBody, Timestamp, left_out_when_none


class PlanStepView(ResponseBody):
    """``percent`` or ``promote``, as the step was planned; ``reason`` is a suspended step's."""

    after: str  # the ISO 8601 duration from the rollout's start, as sent
    percent: float | None = left_out_when_none()
    promote: bool | None = left_out_when_none()
    run_at: Timestamp
    status: ScheduleStatus
    reason: str | None

    @classmethod
    def of(cls, step: PlanStep) -> Self:
        return cls(
            after=step.after,
            percent=step.percent,
            promote=True if step.promote else None,
            run_at=step.run_at,
            status=step.status,
            reason=step.reason,
        )

    @classmethod
    def all_of(cls, steps: list[PlanStep] | None) -> list[Self] | None:
        return None if steps is None else [cls.of(step) for step in steps]
