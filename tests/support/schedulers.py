"""A scheduler (domain.ports.Scheduler) in memory, and a clock the tests move: moto stores EventBridge
Scheduler schedules but never fires them, and no test waits in real time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from decision_flows.models.scheduled_job import ScheduledJob


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


@dataclass
class InMemoryScheduler:
    """One one-time schedule per job, as EventBridge Scheduler names them."""

    schedules: dict[ScheduledJob, datetime] = field(default_factory=dict)

    def put_schedule(self, job: ScheduledJob, run_at: datetime) -> None:
        self.schedules[job] = run_at

    def delete_schedule(self, job: ScheduledJob) -> None:
        self.schedules.pop(job, None)

    def take_due(self, now: datetime) -> list[ScheduledJob]:
        """The schedules due at ``now``, removed as a one-time schedule is once it has fired."""
        due = [named for named, run_at in self.schedules.items() if run_at <= now]
        for named in due:
            del self.schedules[named]
        return due
