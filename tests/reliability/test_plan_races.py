"""Rollout plans' steps under races as AWS runs them (interleaved per DynamoDB call, on the strict
store): a step applies at most once whoever delivers it twice, and a manual call racing a step never
lets both land."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.domain.schedules import Fired
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from tests.integration.test_rollout_plans import at, fire_due, history, job, planned, read, statuses
from tests.reliability.test_interleaved_races import Interleaving, interleaved
from tests.support.schedulers import Clock, InMemoryScheduler, services_clock

__all__ = ["interleaved"]  # the fixture, shared with the other race tests


@pytest.fixture
def clock(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Clock:
    return services_clock(monkeypatch)


def test_a_step_delivered_twice_at_once_applies_once(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, stream: StreamPoller, interleaved: Interleaving
) -> None:
    # Given a planned rollout whose first step is due, which two firings read before either writes
    flow = planned(editor)
    clock.now = at(flow, timedelta(hours=1))
    step = job(flow, 0)

    # When the scheduler and the sweep deliver it at once
    fired = interleaved.run_at_once(
        lambda: wiring.schedule_service().fire(step), lambda: wiring.schedule_service().fire(step)
    )

    # Then one applied it and the other, re-reading after losing the write, found it done
    assert sorted(fired, key=lambda done: done.status is None) == [Fired(step, ScheduleStatus.DONE), Fired(step)]
    stepped = read(editor, flow)
    assert (stepped["rollout"]["percent"], statuses(stepped)) == (25, [("done", None), ("pending", None)])
    assert [entry["action"] for entry in history(editor, stream, flow)].count("rollout_changed") == 1
    assert scheduler.schedules == {job(flow, 1): at(flow, timedelta(hours=4))}


def test_a_step_racing_a_manual_abort_never_lands_beside_it(
    editor: Api, clock: Clock, scheduler: InMemoryScheduler, interleaved: Interleaving
) -> None:
    # Given a due step, and an abort read at the same rowVersion as the step's firing
    flow = planned(editor)
    clock.now = at(flow, timedelta(hours=1))

    # When both write
    fired, aborted = interleaved.run_at_once(
        lambda: fire_due(scheduler, clock), lambda: editor.request("POST", "/rollout/abort", body={"id": flow["id"]})
    )

    # Then either the abort won (the step, re-read, found no rollout) or the step did (the abort is 409)
    assert isinstance(aborted, HttpResponse)
    after = read(editor, flow)
    if aborted.status == 200:
        assert (fired, after["rollout"]) == ([Fired(job(flow, 0))], None)
    else:
        assert aborted.code == "ROW_VERSION_MISMATCH"
        assert fired == [Fired(job(flow, 0), ScheduleStatus.DONE)]
        assert after["rollout"]["percent"] == 25
