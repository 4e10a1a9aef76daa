"""Scheduled change requests: an approved request applied at ``runAt`` with every check of a manual
apply, or suspended with the problem's code and nothing else changed.

The request's item is the truth; the scheduler (ports.Scheduler) only wakes ``fire`` up. A firing
that finds no pending schedule, or one not yet due (a replaced schedule's old time), does nothing, so
a schedule fires at most once whatever the scheduler delivers twice or late.

``sweep`` fires every job the store lists as due (ports.DueJobs): the same firing, so it is both the
backstop on AWS (a schedule lost between the DynamoDB write and the Scheduler call) and the whole of
the local scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from decision_flows.domain.changes import ChangeService, not_pending, role_for
from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    InvalidRequest,
    RateLimited,
    StoreUnavailable,
    Unprocessable,
)
from decision_flows.models.change import ChangeRequest, Schedule
from decision_flows.models.change_terms import ChangeState, ScheduleStatus
from decision_flows.models.flow import FlowAction
from decision_flows.models.identity import Identity
from decision_flows.models.review_commands import RejectRequest, ScheduleRequest
from decision_flows.models.scheduled_job import ScheduledJob

if TYPE_CHECKING:
    from decision_flows.domain.plans import PlanService
    from decision_flows.domain.ports import ChangeStore, DueJobs, Scheduler

EARLIEST_AHEAD = timedelta(minutes=1)
LATEST_AHEAD = timedelta(days=90)
# Later than this past runAt (the service was down), a schedule is suspended as MISSED, never applied.
MISSED_AFTER = timedelta(minutes=5)
MISSED = "MISSED"
# A firing whose write lost a race re-reads and decides again: the winner was another firing of the
# same job (the next read finds it done), a manual call that closed it, or a harmless write to the flow
# (a rename, a draft edit), after which the request still applies.
DECISIONS = 3
# What a request's lost race reads as: its flow or the request itself changed since the firing's read.
RACED = frozenset({"ROW_VERSION_MISMATCH", "TRANSACTION_CONFLICT", "CHANGE_NOT_PENDING"})
# Problems the scheduler retries: the store's, not the request's, so they suspend nothing.
TRANSIENT = (StoreUnavailable, RateLimited)

# The domain loads no powertools: this logs through the standard library (Lambda's root handler).
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fired:
    """What one firing did: ``status`` DONE (applied) or SUSPENDED (with ``reason``, which the firing
    function counts as SchedulesSuspended), None when there was nothing to do (gone, not yet due, or
    fired already). ``early_by``: how long before the job's runAt it came (EventBridge Scheduler
    delivers within the minute of its ``at()``, so up to 59 s early: the firing function waits)."""

    job: ScheduledJob
    status: ScheduleStatus | None = None
    reason: str | None = None
    early_by: timedelta | None = None


class ScheduleService:
    def __init__(  # noqa: PLR0913 (the ports it composes, and the clock tests fix)
        self,
        changes: ChangeService,
        store: ChangeStore,
        scheduler: Scheduler,
        due: DueJobs,
        clock: Callable[[], datetime] = utc_now,
        plans: PlanService | None = None,
    ) -> None:
        """``plans`` fires rollout plans' steps (without, a plan step's job is refused)."""
        self._changes = changes
        self._store = store
        self._scheduler = scheduler
        self._due = due
        self._clock = clock
        self._plans = plans

    def schedule(self, identity: Identity, body: ScheduleRequest) -> ChangeRequest:
        """Schedule an approved request, or move its schedule (a suspended one is scheduled anew)."""
        change = self._changes.get(identity, body.change_id)
        self._changes.check_role(identity, change.action)
        now = self._clock()
        state = change.state_at(timestamp(now))
        if state != ChangeState.APPROVED or change.blocked is not None:
            raise not_pending(change, state, "approved")
        run_at = _run_at(body.run_at)
        if not now + EARLIEST_AHEAD <= run_at <= now + LATEST_AHEAD:
            raise out_of_range(body.run_at)
        schedule = Schedule(run_at=timestamp(run_at), scheduled_by=identity.principal)
        new = self._changes.stamped(change, identity, FlowAction.CHANGE_SCHEDULED, None, schedule=schedule)
        self._store.save_change(change, new)  # first: the firing reads it, whatever the scheduler holds
        self._scheduler.put_schedule(ScheduledJob.for_change(change.tenant_id, change.change_id), run_at)
        return new

    def unschedule(self, identity: Identity, change_id: str) -> ChangeRequest:
        change = self._changes.get(identity, change_id)
        self._changes.check_role(identity, change.action)
        if not change.schedule_pending:
            raise Conflict("SCHEDULE_NOT_PENDING", f"Change request {change_id!r} has no pending schedule.")
        new = self._changes.stamped(change, identity, FlowAction.CHANGE_UNSCHEDULED, None, schedule=None)
        self._store.save_change(change, new)  # first: a schedule left behind fires into a no-op
        self._scheduler.delete_schedule(ScheduledJob.for_change(change.tenant_id, change_id))
        return new

    def cancel(self, identity: Identity, change_id: str) -> ChangeRequest:
        """ChangeService.cancel, and the scheduler's schedule of the request deleted."""
        return self._forget_schedule(self._changes.cancel(identity, change_id))

    def reject(self, identity: Identity, body: RejectRequest) -> ChangeRequest:
        """ChangeService.reject, and the scheduler's schedule of the request deleted."""
        return self._forget_schedule(self._changes.reject(identity, body))

    def _forget_schedule(self, closed: ChangeRequest) -> ChangeRequest:
        """After the write that cancelled the schedule: left behind, it would only fire into a no-op."""
        if closed.schedule is not None and closed.schedule.status == ScheduleStatus.CANCELLED:
            self._scheduler.delete_schedule(ScheduledJob.for_change(closed.tenant_id, closed.change_id))
        return closed

    def fire(self, job: ScheduledJob) -> Fired:
        """The scheduler's call at the job's time: a change request's, or a rollout plan step's."""
        if job.change_id is None:
            if self._plans is None:
                raise NotImplementedError("a schedule service without plans fires change requests only")
            return self._plans.fire(job)
        change_id = job.change_id
        return decided_through_races(lambda: self._decide(job, change_id), RACED)

    def _decide(self, job: ScheduledJob, change_id: str) -> Fired:
        change = self._store.get_change(job.tenant_id, change_id)
        if change is None or change.schedule is None or change.schedule.status != ScheduleStatus.PENDING:
            return Fired(job)  # gone, unscheduled, done or suspended already: at most once
        schedule = change.schedule
        now = self._clock()
        run_at = datetime.fromisoformat(schedule.run_at)
        if now < run_at:
            return Fired(job, early_by=run_at - now)  # early, or an earlier time's schedule a reschedule replaced
        identity = Identity(job.tenant_id, role_for(change.action), schedule.scheduled_by)
        if now > run_at + MISSED_AFTER:
            return self._suspend(job, change, identity, MISSED)
        done = schedule.model_copy(update={"status": ScheduleStatus.DONE})
        try:
            self._changes.apply_checked(identity, change, block_when_stale=False, schedule=done)
        except TRANSIENT:
            raise
        except Conflict as refused:
            if refused.code in RACED:
                raise  # another write landed between the read and the transaction: decide again
            return self._suspend(job, change, identity, refused.code)
        except DomainError as refused:
            return self._suspend(job, change, identity, refused.code)
        return Fired(job, ScheduleStatus.DONE)

    def sweep(self) -> list[Fired]:
        """Fire every job due now, soonest first, and say what each firing did.

        One job's failure never stops the others: each is logged and the sweep goes on. Then the first
        transient one (the store's: throttled or down) is raised, so that the invocation fails and is
        retried or counted as an error; its job is still due, so the next sweep fires it if it is still
        within its window. A job that fails for any other reason (a bug, an unreadable item) is logged
        only: raising would fail every sweep after it, the other jobs' too, for as long as it stays due.
        """
        fired: list[Fired] = []
        transient: Exception | None = None
        for job in self._due.due_by(self._clock()):
            try:
                fired.append(self.fire(job))
            except Exception as error:
                _log.exception("a due job failed to fire", extra={"job": job.payload()})
                if transient is None and isinstance(error, TRANSIENT):
                    transient = error
        if transient is not None:
            raise transient
        return fired

    def _suspend(self, job: ScheduledJob, change: ChangeRequest, identity: Identity, reason: str) -> Fired:
        assert change.schedule is not None, "only a scheduled request suspends"
        suspended = change.schedule.model_copy(update={"status": ScheduleStatus.SUSPENDED, "reason": reason})
        new = self._changes.stamped(change, identity, FlowAction.SCHEDULE_SUSPENDED, None, schedule=suspended)
        self._store.save_change(change, new)
        return Fired(job, ScheduleStatus.SUSPENDED, reason)


def decided_through_races(decide: Callable[[], Fired], raced: frozenset[str]) -> Fired:
    """``decide()``, again while its write loses a race (a refusal whose code is in ``raced``), up to
    DECISIONS times in all."""
    for _ in range(DECISIONS - 1):
        try:
            return decide()
        except DomainError as refused:
            if refused.code not in raced:
                raise
    return decide()  # still racing: raised, and the scheduler's retry, or the sweep, comes back to it


def out_of_range(run_at: str) -> Unprocessable:
    return Unprocessable("SCHEDULE_OUT_OF_RANGE", f"runAt {run_at} is not between 1 minute and 90 days ahead.")


def _run_at(text: str) -> datetime:
    """The body's runAt (RFC 3339 with an offset, by its pattern) as an instant: 400 for a date that
    does not exist (a 30th of February)."""
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        problem = FieldProblem("runAt", "is not a date and time that exists")
        raise InvalidRequest("VALIDATION_ERROR", "runAt is not a valid RFC 3339 date and time.", [problem]) from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # the calendar's first or last day, in an offset that leaves it
        raise out_of_range(text) from None
