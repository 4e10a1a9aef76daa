"""A scheduler (domain.ports.Scheduler) in memory, and a clock the tests move: moto stores EventBridge
Scheduler schedules but never fires them, and no test waits in real time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

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


def services_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock, now to the second, for every service that reads the time (the flow service's stamps a
    rollout's start, from which its plan counts); the test moves it."""
    from decision_flows import wiring  # built against the test's store: after its settings exist

    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    services = (wiring.flow_service(), wiring.change_service(), wiring.schedule_service(), wiring.plan_service())
    for service in services:
        monkeypatch.setattr(service, "_clock", clock)
    return clock
