"""`make serve`'s scheduler loop, in-process: it sweeps again and again under the requests' lock, a
failed sweep is logged and never ends it, and setting its event stops it."""

from __future__ import annotations

import logging
import threading

import pytest

from decision_flows.domain.errors import StoreUnavailable
from decision_flows.domain.schedules import Fired
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows_local.api.local_scheduler import LocalScheduler
from tests.support.waiting import eventually

JOB = ScheduledJob.for_change("tenant-a", "cr_0123_df_1")


class Sweeps:
    """A sweep that fails first (the store is down), then fires a job; it notes whether it held the lock."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.calls = 0
        self.held_lock: list[bool] = []

    def __call__(self) -> list[Fired]:
        self.calls += 1
        self.held_lock.append(self.lock.locked())
        if self.calls == 1:
            raise StoreUnavailable("STORE_BUSY", "The data store did not answer; retry shortly.")
        return [Fired(JOB, ScheduleStatus.DONE)]


def test_the_loop_outlives_a_failed_sweep_holds_the_lock_and_stops_when_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the scheduler running on a sweep whose first call fails
    lock = threading.Lock()
    sweeps = Sweeps(lock)
    caplog.set_level(logging.INFO, logger="decision_flows_local")
    stop = LocalScheduler(sweeps, lock, interval=0.01).start()

    # Then it sweeps on after the failure, each time under the lock, and logs both outcomes
    assert eventually(lambda: sweeps.calls >= 3, seconds=5)
    assert all(sweeps.held_lock)
    messages = [record.getMessage() for record in caplog.records]
    assert "scheduler: the sweep failed; the next one retries" in messages
    assert f"scheduler: {JOB.payload()} done " in messages

    # When its event is set, its thread ends
    stop.set()
    assert eventually(lambda: "local-scheduler" not in {thread.name for thread in threading.enumerate()}, seconds=5)
