"""Rollout plans' steps, fired: each applied as its manual call would be, at most once, or suspended
with the rest of the plan.

The flow item is the truth; a schedule only wakes ``fire`` up. A firing that does not find the step
as the flow's next pending one (the rollout ended, moved on, or was replaced; the flow is gone; the
step is done, suspended or cancelled) does nothing, nor does one that comes early; every write is
guarded by the rowVersion read, so a second delivery, concurrent or late, finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from decision_flows.domain.clock import utc_now
from decision_flows.domain.errors import DomainError
from decision_flows.domain.schedules import MISSED, MISSED_AFTER, TRANSIENT, Fired, decided_through_races
from decision_flows.domain.service import FlowService
from decision_flows.models.flow import Flow, PlanStep, ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob

if TYPE_CHECKING:
    from decision_flows.domain.ports import FlowStore

# A write that lost its race re-reads and decides again (schedules.decided_through_races): the winner
# was another firing (the next read finds the step done) or a manual call (which cancelled it).
# What a lost race reads as: the flow changed, or went, between the firing's read and its write.
RACED = frozenset({"ROW_VERSION_MISMATCH", "TRANSACTION_CONFLICT", "FLOW_NOT_FOUND"})


class PlanService:
    def __init__(self, flows: FlowService, store: FlowStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._flows = flows
        self._store = store
        self._clock = clock

    def fire(self, job: ScheduledJob) -> Fired:
        """The scheduler's (or the sweep's) call at a plan step's time."""
        return decided_through_races(lambda: self._decide(job), RACED)

    def _decide(self, job: ScheduledJob) -> Fired:
        flow = self._store.get_flow(job.tenant_id, str(job.flow_id))  # strongly consistent
        step = _next_step(flow, job)
        if flow is None or step is None or job.step is None:
            return Fired(job)
        now = self._clock()
        run_at = datetime.fromisoformat(step.run_at)
        if now < run_at:
            return Fired(job, early_by=run_at - now)  # early, or the schedule of a replaced plan
        if now > run_at + MISSED_AFTER:
            return self._suspend(job, flow, MISSED)
        try:
            plan = self._flows.plan_step(flow, job.step)
        except TRANSIENT:
            raise
        except DomainError as refused:
            return self._suspend(job, flow, refused.code)
        self._flows.write(plan)
        return Fired(job, ScheduleStatus.DONE)

    def _suspend(self, job: ScheduledJob, flow: Flow, reason: str) -> Fired:
        assert job.step is not None, "a plan's job names its step"
        self._flows.write(self._flows.plan_suspension(flow, job.step, reason))
        return Fired(job, ScheduleStatus.SUSPENDED, reason)


def _next_step(flow: Flow | None, job: ScheduledJob) -> PlanStep | None:
    """The job's step, if the flow's running rollout is the job's and the step is its next pending one."""
    rollout = flow.rollout if flow is not None else None
    if rollout is None or rollout.plan is None or rollout.challenger_version != job.challenger_version:
        return None
    if job.step is None or rollout.next_step() != job.step:
        return None
    return rollout.plan[job.step]
