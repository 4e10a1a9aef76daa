"""Every release write is guarded like any other, and leaves the whole flow record as the contract says.

Written against the surviving mutants of docs/RELIABILITY.md ("Mutation testing"): a stale
``If-Match`` or ``expectedCurrentVersion`` must refuse publish, rollback, their dry runs and each
rollout step, and a release must leave status, versions and stamps right, not only the live version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from decision_flows.domain.errors import DomainError
from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import UpdateFlowRequest
from decision_flows.models.flow import Flow, FlowAction, FlowStatus
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest
from decision_flows_local.fixtures.samples import v1_config, v2_config
from tests.support.flow_service import ALICE, create, publish, update
from tests.support.in_memory_flows import InMemoryFlowStore

# A write taking the body (id plus fields) and an If-Match, as the handlers call the service.
Write = Callable[[FlowService, dict[str, Any], int | None], object]

WRITES: dict[str, Write] = {
    "publish": lambda s, body, if_match: s.publish(ALICE, PublishRequest.model_validate(body), if_match),
    "publish dry run": lambda s, body, if_match: s.preview_publish(
        ALICE, PublishRequest.model_validate(body), if_match
    ),
    "rollback": lambda s, body, if_match: s.rollback(
        ALICE, RollbackRequest.model_validate({"version": 1, **body}), if_match
    ),
    "rollback dry run": lambda s, body, if_match: s.preview_rollback(
        ALICE, RollbackRequest.model_validate({"version": 1, **body}), if_match
    ),
    "rollout share": lambda s, body, if_match: s.change_rollout(
        ALICE, RolloutRequest.model_validate({"percent": 50, **body}), if_match
    ),
    "promote": lambda s, body, if_match: s.promote(ALICE, PromoteRequest.model_validate(body), if_match),
    "abort": lambda s, body, if_match: s.abort(ALICE, AbortRequest.model_validate(body), if_match),
}
ROLLOUT_STEPS = ("rollout share", "promote", "abort")


def ready_for(service: FlowService, write: str) -> Flow:
    """A flow each write would accept: v1 live and a changed draft (v1 config), plus a challenger v2
    for the rollout steps."""
    flow = update(service, publish(service, create(service)), draftConfig=v1_config())
    if write in ROLLOUT_STEPS:
        return publish(service, flow, rollout={"percent": 10})
    if write.startswith("rollback"):
        return publish(service, flow)
    return flow


def refused_with(code: str, call: Callable[[], object]) -> None:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code


@pytest.mark.parametrize("write", WRITES)
def test_a_stale_if_match_is_409_and_changes_nothing(
    service: FlowService, store: InMemoryFlowStore, write: str
) -> None:
    # Given a flow the write would accept, at some rowVersion
    flow = ready_for(service, write)

    # When the write names the rowVersion before it in If-Match alone, then it is refused
    refused_with("ROW_VERSION_MISMATCH", lambda: WRITES[write](service, {"id": flow.id}, flow.row_version - 1))

    # And the flow is as it was; the current rowVersion is accepted
    assert store.get_flow(ALICE.tenant_id, flow.id) == flow
    WRITES[write](service, {"id": flow.id}, flow.row_version)


@pytest.mark.parametrize("write", WRITES)
def test_a_stale_row_version_in_the_body_is_409(service: FlowService, write: str) -> None:
    flow = ready_for(service, write)
    refused_with("ROW_VERSION_MISMATCH", lambda: WRITES[write](service, {"id": flow.id, "rowVersion": 1}, None))


@pytest.mark.parametrize("write", WRITES)
def test_an_expected_current_version_that_is_not_live_is_409(service: FlowService, write: str) -> None:
    flow = ready_for(service, write)
    stale = {"id": flow.id, "expectedCurrentVersion": (flow.live_version or 0) + 1}
    refused_with("CURRENT_VERSION_MISMATCH", lambda: WRITES[write](service, stale, None))
    WRITES[write](service, {"id": flow.id, "expectedCurrentVersion": flow.live_version}, None)


def test_if_match_alone_guards_update_and_delete(service: FlowService) -> None:
    flow = update(service, create(service), name="Moved on")
    refused_with("ROW_VERSION_MISMATCH", lambda: update(service, flow, if_match=1, name="Late"))
    refused_with("ROW_VERSION_MISMATCH", lambda: service.delete(ALICE, flow.id, 1))
    service.delete(ALICE, flow.id, flow.row_version)
    refused_with("FLOW_NOT_FOUND", lambda: service.get(ALICE, flow.id))


def test_a_staged_rollout_needs_a_live_champion(service: FlowService) -> None:
    flow = create(service)
    refused_with("NOT_PUBLISHED", lambda: publish(service, flow, rollout={"percent": 10}))


def test_starting_a_rollout_on_a_paused_flow_makes_it_active_and_lists_the_challenger(service: FlowService) -> None:
    # Given v1 live on a paused flow with a changed draft
    flow = update(service, publish(service, create(service)), status="paused", draftConfig=v1_config())

    # When v2 is published as a 25 % challenger
    started = publish(service, flow, rollout={"percent": 25}, notes="try scorecard")

    # Then the flow is active, lists both versions, v1 stays live and the rollout is stamped
    assert (started.status, started.live_version, started.latest_version) == (FlowStatus.ACTIVE, 1, 2)
    assert [(v.version, v.notes) for v in started.published_versions] == [(1, None), (2, "try scorecard")]
    assert (started.last_action, started.updated_by, started.row_version) == (
        FlowAction.ROLLOUT_STARTED,
        "alice",
        flow.row_version + 1,
    )
    assert started.rollout is not None
    rollout = started.rollout
    assert (rollout.challenger_version, rollout.basis_points, rollout.started_by) == (2, 2500, "alice")
    assert rollout.started_at == rollout.updated_at == started.updated_at
    assert rollout.challenger_config_hash == flow.draft_hash
    challenger = service.version(ALICE, flow.id, 2)
    assert (challenger.scoring_method, challenger.node_count, challenger.notes) == ("scorecard", None, "try scorecard")


def test_changing_the_share_refreshes_updated_at_and_keeps_the_start(service: FlowService) -> None:
    started = ready_for(service, "rollout share")
    assert started.rollout is not None

    changed = service.change_rollout(ALICE, RolloutRequest.model_validate({"id": started.id, "percent": 40}), None)

    assert changed.rollout is not None
    assert changed.rollout.basis_points == 4000
    assert (changed.rollout.started_at, changed.rollout.started_by) == (started.rollout.started_at, "alice")
    assert changed.rollout.updated_at == changed.updated_at > started.rollout.updated_at
    assert (changed.last_action, changed.row_version) == (FlowAction.ROLLOUT_CHANGED, started.row_version + 1)


def test_a_publish_stamps_the_write_and_records_its_version(service: FlowService) -> None:
    flow = create(service, description="first", autoAssembly=False)
    released = publish(service, flow, notes="launch")

    assert (released.description, released.auto_assembly) == ("first", False)
    assert (released.last_action, released.updated_by, released.updated_at > flow.updated_at) == (
        FlowAction.PUBLISHED,
        "alice",
        True,
    )
    assert (released.live_config_hash, released.has_unpublished_changes) == (flow.draft_hash, False)
    v1 = service.version(ALICE, flow.id, 1)
    assert (v1.notes, v1.node_count, v1.scoring_method, v1.published_at) == (
        "launch",
        3,
        "propensity",
        released.updated_at,
    )


def test_a_rollback_restores_the_versions_facts_and_makes_it_the_draft(service: FlowService) -> None:
    flow = ready_for(service, "rollback")  # v1: v2 config, propensity; v2: v1 config, scorecard

    restored = service.rollback(ALICE, RollbackRequest.model_validate({"id": flow.id, "version": 1}), None)

    v3 = service.version(ALICE, flow.id, 3)
    assert (v3.node_count, v3.scoring_method, v3.restored_from) == (3, "propensity", 1)
    assert (restored.draft_hash, restored.live_config_hash) == (v3.config_hash, v3.config_hash)
    assert not restored.has_unpublished_changes


def test_a_missing_version_of_an_existing_flow_is_version_not_found(service: FlowService) -> None:
    flow = publish(service, create(service))
    refused_with("VERSION_NOT_FOUND", lambda: service.version(ALICE, flow.id, 2))
    refused_with("FLOW_NOT_FOUND", lambda: service.version(ALICE, "df_" + "0" * 24, 1))


def test_a_created_flow_keeps_what_was_sent(service: FlowService) -> None:
    flow = create(service, description="d", status="paused", autoAssembly=False, draftConfig=v2_config())
    assert (flow.description, flow.status, flow.auto_assembly) == ("d", FlowStatus.PAUSED, False)
    assert (flow.created_by, flow.updated_by, flow.created_at) == ("alice", "alice", flow.updated_at)
    assert service.get(ALICE, flow.id) == flow


def test_a_dry_run_answers_the_new_configs_warnings(service: FlowService) -> None:
    edgeless = {"version": 2, "nodes": [*v2_config()["nodes"]]}
    flow = create(service, draftConfig=edgeless)
    preview = service.preview_publish(ALICE, PublishRequest.model_validate({"id": flow.id}), None)
    assert [(warning.code, warning.pointer()) for warning in preview.warnings] == [
        ("NO_OUTPUT_NODE", "/nodes"),
        ("DEAD_END_NODE", "/nodes/2"),
    ]


@pytest.mark.parametrize(
    ("write", "action"), [("promote", FlowAction.ROLLOUT_PROMOTED), ("abort", FlowAction.ROLLOUT_ABORTED)]
)
def test_ending_a_rollout_names_its_action_and_keeps_its_notes(
    service: FlowService, write: str, action: FlowAction
) -> None:
    flow = ready_for(service, write)
    ended = WRITES[write](service, {"id": flow.id, "notes": "enough data"}, None)
    assert isinstance(ended, Flow)
    assert (ended.last_action, ended.last_notes, ended.rollout) == (action, "enough data", None)


def test_null_fields_of_an_update_are_each_named_by_their_json_name(service: FlowService) -> None:
    flow = create(service)
    with pytest.raises(DomainError) as caught:
        update(service, flow, name=None, draftConfig=None)
    assert caught.value.code == "VALIDATION_ERROR"
    assert sorted((problem.field, problem.message) for problem in caught.value.errors) == [
        ("draftConfig", "may not be null"),
        ("name", "may not be null"),
    ]


def test_a_later_write_stamps_its_author_and_clears_the_last_notes(service: FlowService) -> None:
    promoted = WRITES["promote"](service, {"id": ready_for(service, "promote").id, "notes": "wins"}, None)
    assert isinstance(promoted, Flow)
    bob = replace(ALICE, principal="bob")

    renamed = service.update(bob, UpdateFlowRequest.model_validate({"id": promoted.id, "name": "Bob's"}), None)

    assert (renamed.updated_by, renamed.last_notes, renamed.created_by) == ("bob", None, "alice")
