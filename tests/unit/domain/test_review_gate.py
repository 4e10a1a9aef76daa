"""The review policy's gate over FlowService: the policy is read with the flow (one read), only for the
calls it can refuse, and the refusal still comes after every other check of the call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from decision_flows.domain.errors import Conflict, DomainError
from decision_flows.domain.service import FlowService, Plan
from decision_flows.models.draft_commands import UpdateFlowRequest
from decision_flows.models.flow import Flow
from decision_flows.models.policy import Policy
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest
from decision_flows_local.fixtures.samples import v1_config
from tests.support.flow_service import ALICE, Clock, create, publish, update
from tests.support.in_memory_flows import InMemoryFlowStore

GatedCall = Callable[[FlowService, Flow, int | None], object]


def body(flow: Flow, **fields: Any) -> dict[str, Any]:
    return {"id": flow.id, **fields}


GATED: dict[str, GatedCall] = {
    "publish": lambda s, f, m: s.publish(ALICE, PublishRequest.model_validate(body(f)), m),
    "staged publish": lambda s, f, m: s.publish(
        ALICE, PublishRequest.model_validate(body(f, rollout={"percent": 10})), m
    ),
    "rollback": lambda s, f, m: s.rollback(ALICE, RollbackRequest.model_validate(body(f, version=1)), m),
    "rollout share": lambda s, f, m: s.change_rollout(ALICE, RolloutRequest.model_validate(body(f, percent=50)), m),
    "promote": lambda s, f, m: s.promote(ALICE, PromoteRequest.model_validate(body(f)), m),
    "abort": lambda s, f, m: s.abort(ALICE, AbortRequest.model_validate(body(f)), m),
    "status": lambda s, f, m: s.update(ALICE, UpdateFlowRequest.model_validate(body(f, status="paused")), m),
    "key": lambda s, f, m: s.update(ALICE, UpdateFlowRequest.model_validate(body(f, key="moved")), m),
    "delete": lambda s, f, m: s.delete(ALICE, f.id, m),
}


@pytest.fixture
def gated(store: InMemoryFlowStore) -> FlowService:
    return FlowService(store, review_policy=True, clock=Clock())


def active_for(service: FlowService, call: str) -> Flow:
    """An active flow the call would otherwise accept: v1 live, a changed draft (v2 published for a
    rollback, a challenger running for a rollout step)."""
    flow = update(service, publish(service, create(service)), draftConfig=v1_config())
    if call in ("rollout share", "promote", "abort"):
        return publish(service, flow, rollout={"percent": 10})
    if call == "rollback":
        return publish(service, flow)
    return flow


def requiring_review(store: InMemoryFlowStore) -> None:
    store.policies[ALICE.tenant_id] = Policy(tenant_id=ALICE.tenant_id, required=1, row_version=1)


@pytest.mark.parametrize("call", GATED)
def test_a_gated_call_reads_the_policy_with_the_flow_and_is_refused_after_that_one_read(
    call: str, gated: FlowService, store: InMemoryFlowStore
) -> None:
    # Given an active flow and a policy that requires an approval
    flow = active_for(gated, call)
    requiring_review(store)
    store.reads.clear()

    # When the call is made directly
    with pytest.raises(DomainError) as refused:
        GATED[call](gated, flow, None)

    # Then it is refused after one read of the flow with the policy, and nothing is written
    assert isinstance(refused.value, Conflict)
    assert refused.value.code == "APPROVAL_REQUIRED"
    assert store.reads == ["get_gated_flow"]
    assert store.flows[(ALICE.tenant_id, flow.id)] == flow


@pytest.mark.parametrize("call", GATED)
def test_the_refusal_comes_after_the_calls_own_checks(call: str, gated: FlowService, store: InMemoryFlowStore) -> None:
    # Given a policy that requires an approval and a call at a stale rowVersion
    flow = active_for(gated, call)
    requiring_review(store)

    # When it is made
    with pytest.raises(DomainError) as refused:
        GATED[call](gated, flow, flow.row_version - 1)

    # Then the call's own check answers, not the policy
    assert refused.value.code == "ROW_VERSION_MISMATCH"


@pytest.mark.parametrize("call", GATED)
def test_without_a_policy_a_gated_call_still_costs_one_read(
    call: str, gated: FlowService, store: InMemoryFlowStore
) -> None:
    flow = active_for(gated, call)
    store.reads.clear()

    GATED[call](gated, flow, None)

    assert store.reads == ["get_gated_flow"]


def test_draft_edits_and_dry_runs_read_the_flow_alone(gated: FlowService, store: InMemoryFlowStore) -> None:
    # Given an active flow and a policy that requires an approval
    flow = active_for(gated, "publish")
    requiring_review(store)
    store.reads.clear()

    # When its draft and name are edited, and a publish is tried as a dry run
    edited = update(gated, flow, name="Renamed", draftConfig=v1_config())
    gated.preview_publish(ALICE, PublishRequest.model_validate(body(edited)), None)

    # Then neither read the policy, and neither was refused
    assert store.reads[:2] == ["get_flow", "get_flow"]
    assert "get_gated_flow" not in store.reads
    assert edited.name == "Renamed"


Planning = Callable[[FlowService, Flow], Plan]

PLANS: dict[str, Planning] = {
    "publish": lambda s, f: s.plan_publish(ALICE, PublishRequest.model_validate(body(f)), None),
    "rollback": lambda s, f: s.plan_rollback(ALICE, RollbackRequest.model_validate(body(f, version=1)), None),
    "rollout share": lambda s, f: s.plan_rollout(ALICE, RolloutRequest.model_validate(body(f, percent=50)), None),
    "promote": lambda s, f: s.plan_promote(ALICE, PromoteRequest.model_validate(body(f)), None),
    "abort": lambda s, f: s.plan_abort(ALICE, AbortRequest.model_validate(body(f)), None),
    "status": lambda s, f: s.plan_update(ALICE, UpdateFlowRequest.model_validate(body(f, status="paused")), None),
    "delete": lambda s, f: s.plan_delete(ALICE, f.id, None),
}


# A plan's one read: the flow, and for a rollback the version it copies too.
PLAN_READS = {"rollback": "get_flow_and_version"}


@pytest.mark.parametrize("call", PLANS)
def test_a_plan_reads_no_policy_unless_asked(call: str, gated: FlowService, store: InMemoryFlowStore) -> None:
    # Given an active flow under a policy that requires an approval (a change request's apply plans so)
    flow = active_for(gated, call)
    requiring_review(store)
    store.reads.clear()

    # When the call is planned without asking for the policy
    plan = PLANS[call](gated, flow)

    # Then its one read fetched no policy, and the plan, written, lands at the next rowVersion
    assert (store.reads, plan.policy) == ([PLAN_READS.get(call, "get_flow")], None)
    gated.write(plan)
    stored = store.get_flow(flow.tenant_id, flow.id)
    landed = "deleted" if stored is None else stored.row_version
    assert landed == ("deleted" if call == "delete" else flow.row_version + 1)


def test_a_put_that_resends_the_status_may_rename_an_active_flow_under_review(
    gated: FlowService, store: InMemoryFlowStore
) -> None:
    # Given an active flow under a policy that requires an approval
    flow = active_for(gated, "status")
    requiring_review(store)

    # When a PUT sends its status unchanged along with a new name
    renamed = update(gated, flow, status=flow.status, name="Renamed")

    # Then only the name changed, and no approval was asked for
    assert (renamed.status, renamed.name, renamed.row_version) == (flow.status, "Renamed", flow.row_version + 1)


def test_a_service_without_the_review_policy_never_reads_it(service: FlowService, store: InMemoryFlowStore) -> None:
    flow = active_for(service, "publish")
    requiring_review(store)
    store.reads.clear()

    assert publish(service, flow).live_version == 2
    assert store.reads == ["get_flow"]
