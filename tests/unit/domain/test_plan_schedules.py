"""FlowService keeps a rollout plan's one schedule (its next pending step's) in step with each write."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from decision_flows.domain.errors import StoreUnavailable
from decision_flows.domain.service import FlowService
from decision_flows.models.flow import Flow
from decision_flows.models.rollout_commands import AbortRequest
from decision_flows.models.scheduled_job import ScheduledJob
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
    """A flow whose v2 runs as a challenger at 10 %, with PLAN to follow."""
    return publish(service, publish(service, create(service)), rollout={"percent": 10, "plan": PLAN})


def step_schedule(flow: Flow, step: int, after: timedelta) -> tuple[ScheduledJob, datetime]:
    assert flow.rollout is not None
    started = datetime.fromisoformat(flow.rollout.started_at)
    return ScheduledJob.for_plan_step(flow.tenant_id, flow.id, 2, step), started + after


def test_a_publish_with_a_plan_schedules_its_first_step(scheduled: FlowService, scheduler: InMemoryScheduler) -> None:
    # When a rollout starts with a plan
    flow = planned(scheduled)

    # Then its first step, and only it, is scheduled at the rollout's start plus its after
    assert list(scheduler.schedules.items()) == [step_schedule(flow, 0, timedelta(hours=1))]


def test_an_applied_step_moves_the_schedule_to_the_next_step(
    scheduled: FlowService, scheduler: InMemoryScheduler
) -> None:
    # Given a flow with a planned rollout
    flow = planned(scheduled)

    # When the plan's first step applies
    scheduled.write(scheduled.plan_step(flow, 0))

    # Then the schedule of the step done is gone and the next step's is there
    assert list(scheduler.schedules.items()) == [step_schedule(flow, 1, timedelta(hours=2))]


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


def test_without_a_scheduler_a_plan_is_stored_for_the_sweep(service: FlowService) -> None:
    flow = planned(service)

    assert flow.rollout is not None

    assert flow.rollout.plan is not None
    assert len(flow.rollout.plan) == 2


class UnavailableScheduler:
    def put_schedule(self, job: ScheduledJob, run_at: datetime) -> None:
        raise StoreUnavailable("SERVICE_UNAVAILABLE", "Scheduler is throttling.")

    def delete_schedule(self, job: ScheduledJob) -> None:
        raise StoreUnavailable("SERVICE_UNAVAILABLE", "Scheduler is throttling.")


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
    assert [record.exc_info is not None for record in caplog.records] == [True]
