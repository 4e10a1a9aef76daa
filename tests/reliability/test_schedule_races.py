"""Scheduled change requests under races as AWS runs them (interleaved per DynamoDB call, on the strict
store): a request fired twice at once applies once and neither firing fails, and a harmless write to
the flow between a firing's read and its write (a rename) never suspends the schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.domain.clock import timestamp
from decision_flows.domain.schedules import Fired
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows_local.api.gateway import Api
from tests.integration.test_scheduled_changes import approved_publish, live_version, read, schedule
from tests.reliability.test_interleaved_races import Interleaving, interleaved
from tests.support.schedulers import Clock, InMemoryScheduler, services_clock
from tests.support.tenants import TENANT_A

__all__ = ["interleaved"]  # the fixture, shared with the other race tests


@pytest.fixture
def clock(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Clock:
    return services_clock(monkeypatch)


def due_change(editor: Api, clock: Clock) -> tuple[dict[str, Any], dict[str, Any], ScheduledJob]:
    """A live flow (v2) whose publish is scheduled and due now."""
    flow, change = approved_publish(editor)
    assert schedule(editor, change, timestamp(clock() + timedelta(minutes=2))).status == 200
    clock.advance(timedelta(minutes=2))
    return flow, change, ScheduledJob.for_change(TENANT_A, change["changeId"])


def test_a_change_delivered_twice_at_once_applies_once_and_neither_firing_fails(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, interleaved: Interleaving
) -> None:
    # Given a due scheduled publish, which the scheduler and the sweep deliver at once
    flow, change, job = due_change(editor, clock)

    # When both fire it, each read before either writes
    fired = interleaved.run_at_once(
        lambda: wiring.schedule_service().fire(job), lambda: wiring.schedule_service().fire(job)
    )

    # Then one applied it, and the other, re-reading after losing the write, found nothing to do
    assert sorted(fired, key=lambda done: done.status is None) == [Fired(job, ScheduleStatus.DONE), Fired(job)]
    assert (read(editor, change)["schedule"]["status"], live_version(editor, flow)) == ("done", 3)


def test_a_rename_between_a_firings_read_and_write_does_not_suspend_it(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a due scheduled publish, and an editor who renames the flow (its base unchanged) once the
    # firing has planned its write
    flow, change, job = due_change(editor, clock)
    service = wiring.change_service()
    plan = service._plan
    renamed: list[int] = []

    def planned_then_renamed(*args: Any, **kwargs: Any) -> Any:
        planned = plan(*args, **kwargs)
        if not renamed:
            renamed.append(editor.update(id=flow["id"], name="Renamed").status)
        return planned

    monkeypatch.setattr(service, "_plan", planned_then_renamed)

    # When it fires
    fired = wiring.schedule_service().fire(job)

    # Then its write lost to the rename, and it decided again and applied, as a manual apply would
    assert (renamed, fired) == ([200], Fired(job, ScheduleStatus.DONE))
    assert (read(editor, change)["state"], live_version(editor, flow)) == ("applied", 3)
