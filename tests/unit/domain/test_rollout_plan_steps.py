"""A rollout plan's steps as FlowService applies them, and its one schedule (the next pending step's),
kept in step with each write."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from decision_flows.domain.errors import StoreUnavailable
from decision_flows.domain.service import FlowService
from decision_flows.models.flow import Flow, ScheduleStatus
from decision_flows.models.rollout_commands import AbortRequest
from decision_flows.models.scheduled_job import ScheduledJob, next_plan_job
from tests.support.flow_service import ALICE, Clock, create, publish
from tests.support.in_memory_flows import InMemoryFlowStore
from tests.support.schedulers import InMemoryScheduler

PLAN = [{"after": "PT1H", "percent": 50}, {"after": "PT2H", "promote": True}]


@pytest.fixture
def scheduler() -> InMemoryScheduler:
    return InMemoryScheduler()


@pytest.fixture
def scheduled(store: InMemoryFlowStore, scheduler: InMemoryScheduler) -> FlowService:
    return FlowService(store, clock=Clock(), scheduler=lambda: scheduler)


def planned(service: FlowService) -> Flow:
    """A flow whose v2 runs as a challenger at 10 % (qa-1 always, vip-1 never), with PLAN to follow."""
    rollout = {"percent": 10, "include": ["qa-1"], "exclude": ["vip-1"], "plan": PLAN}
    return publish(service, publish(service, create(service)), rollout=rollout)


def step_schedule(flow: Flow, step: int, after: timedelta) -> tuple[ScheduledJob, datetime]:
    assert flow.rollout is not None
    started = datetime.fromisoformat(flow.rollout.started_at)
    return ScheduledJob.for_plan_step(flow.tenant_id, flow.id, 2, step), started + after


def test_a_publish_with_a_plan_schedules_its_first_step(scheduled: FlowService, scheduler: InMemoryScheduler) -> None:
    # When a rollout starts with a plan
    flow = planned(scheduled)

    # Then its first step, and only it, is scheduled at the rollout's start plus its after
    assert list(scheduler.schedules.items()) == [step_schedule(flow, 0, timedelta(hours=1))]


def test_an_applied_step_moves_the_share_alone_and_the_schedule_to_the_next_step(
    scheduled: FlowService, scheduler: InMemoryScheduler
) -> None:
    # Given a flow with a planned rollout
    flow = planned(scheduled)

    # When the plan's first step applies
    moved = scheduled.write(scheduled.plan_step(flow, 0))

    # Then the share is the step's, the overrides are kept, and the step is named on the write
    assert moved.rollout is not None
    assert (moved.rollout.basis_points, moved.rollout.include, moved.rollout.exclude) == (5000, ["qa-1"], ["vip-1"])
    assert moved.last_plan_step == 0
    # and the schedule of the step done is gone, the next step's there
    assert list(scheduler.schedules.items()) == [step_schedule(flow, 1, timedelta(hours=2))]


def test_the_promoting_step_makes_the_challenger_live_as_the_rollouts_starter(
    scheduled: FlowService, scheduler: InMemoryScheduler, store: InMemoryFlowStore
) -> None:
    # Given a flow whose plan's first step has applied
    flow = scheduled.write(scheduled.plan_step(planned(scheduled), 0))

    # When its last step, a promote, applies
    promoted = scheduled.write(scheduled.plan_step(flow, 1))

    # Then the challenger is live, the rollout over, the write the step's, and no schedule is left
    assert (promoted.live_version, promoted.rollout, promoted.row_version) == (2, None, flow.row_version + 1)
    assert (promoted.last_plan_step, promoted.last_notes, promoted.updated_by) == (1, None, "alice")
    assert promoted.updated_at > flow.updated_at
    assert store.flows[(flow.tenant_id, flow.id)] == promoted
    assert scheduler.schedules == {}


def test_a_suspended_step_suspends_the_rest_of_the_plan_with_its_reason_and_unschedules_it(
    scheduled: FlowService, scheduler: InMemoryScheduler
) -> None:
    # Given a flow with a planned rollout
    flow = planned(scheduled)

    # When its first step cannot apply
    suspended = scheduled.write(scheduled.plan_suspension(flow, 0, "MISSED"))

    # Then every step is suspended with the reason, the write is the step's, and nothing is left to fire
    assert suspended.rollout is not None
    assert suspended.rollout.plan is not None
    assert [(step.status, step.reason) for step in suspended.rollout.plan] == [(ScheduleStatus.SUSPENDED, "MISSED")] * 2
    assert (suspended.last_plan_step, suspended.updated_by, suspended.row_version) == (0, "alice", flow.row_version + 1)
    assert suspended.updated_at > flow.updated_at
    assert scheduler.schedules == {}


@pytest.mark.parametrize("ending", ["abort", "delete"])
def test_ending_the_rollout_or_the_flow_deletes_the_schedule(
    ending: str, scheduled: FlowService, scheduler: InMemoryScheduler
) -> None:
    # Given a flow with a planned rollout
    flow = planned(scheduled)

    # When the rollout is aborted, or the flow deleted
    if ending == "abort":
        scheduled.abort(ALICE, AbortRequest.model_validate({"id": flow.id}), None)
    else:
        scheduled.delete(ALICE, flow.id, None)

    # Then no schedule is left to fire
    assert scheduler.schedules == {}


def test_without_a_scheduler_the_stored_flow_names_its_first_step_as_due(
    service: FlowService, store: InMemoryFlowStore
) -> None:
    # Given a service without a scheduler (make serve, the tests: the store is swept instead)
    # When a rollout starts with a plan
    flow = planned(service)

    # Then the flow as stored names its first step as the job due, at the rollout's start plus its
    # after: what the access layer indexes for the sweep (dal/due_jobs.py)
    stored = store.get_flow(flow.tenant_id, flow.id)
    assert next_plan_job(stored) == step_schedule(flow, 0, timedelta(hours=1))


class UnavailableScheduler:
    def put_schedule(self, job: ScheduledJob, run_at: datetime) -> None:
        raise StoreUnavailable("STORE_BUSY", "The scheduler did not answer; retry shortly.")

    def delete_schedule(self, job: ScheduledJob) -> None:
        raise StoreUnavailable("STORE_BUSY", "The scheduler did not answer; retry shortly.")


def test_a_scheduler_that_fails_leaves_the_write_landed_and_logs_why(
    store: InMemoryFlowStore, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a service whose scheduler is unavailable
    service = FlowService(store, clock=Clock(), scheduler=UnavailableScheduler)

    # When a rollout with a plan starts
    with caplog.at_level(logging.WARNING, logger="decision_flows.domain.service"):
        flow = planned(service)

    # Then the write is answered and stored (the sweep fires the step), and the cause is logged
    assert store.flows[(flow.tenant_id, flow.id)] == flow
    causes = [record.exc_info[1] if record.exc_info else None for record in caplog.records]
    assert [type(cause) for cause in causes] == [StoreUnavailable]
