"""A scheduler (domain.ports.Scheduler) in memory, and a clock the tests move: moto stores EventBridge
Scheduler schedules but never fires them, and no test waits in real time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


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
    """One one-time schedule per (tenant, change), as EventBridge Scheduler names them."""

    schedules: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def put_schedule(self, tenant_id: str, change_id: str, run_at: datetime) -> None:
        self.schedules[(tenant_id, change_id)] = run_at

    def delete_schedule(self, tenant_id: str, change_id: str) -> None:
        self.schedules.pop((tenant_id, change_id), None)

    def take_due(self, now: datetime) -> list[tuple[str, str]]:
        """The schedules due at ``now``, removed as a one-time schedule is once it has fired."""
        due = [named for named, run_at in self.schedules.items() if run_at <= now]
        for named in due:
            del self.schedules[named]
        return due
