"""FlowService's rules, against the in-memory store: the contract's write rules in milliseconds.

The same rules run end to end against moto in tests/integration; here each one is isolated.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from decision_flows.domain.errors import DomainError
from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import CreateFlowRequest
from decision_flows.models.flow import PUBLISHED_VERSIONS_ON_FLOW, Flow, FlowAction, FlowStatus
from decision_flows.models.identity import Identity, Role
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest
from decision_flows_local.fixtures.samples import v1_config, v2_config
from tests.support.flow_service import ALICE, create, publish, rollback, update
from tests.support.in_memory_flows import InMemoryFlowStore

# The `store` and `service` fixtures are in tests/unit/domain/conftest.py.


BOB = Identity(tenant_id="tenant-b", role=Role.ADMIN, principal="bob")


def refused(code: str) -> Any:
    return pytest.raises(DomainError, match=rf"^{code}: ")


def draft(flow: Flow) -> Any:
    assert flow.draft_config is not None
    return json.loads(flow.draft_config)


class TestCreate:
    def test_a_new_flow_is_a_draft_at_row_version_1_with_the_default_config(self, service: FlowService) -> None:
        flow = service.create(ALICE, CreateFlowRequest.model_validate({"key": "k", "name": "K"}))
        assert (flow.status, flow.row_version, flow.live_version, flow.published_versions) == ("draft", 1, None, [])
        assert draft(flow) == {"version": 2, "nodes": [], "edges": []}

    def test_a_taken_key_is_409_and_active_without_a_version_is_422(self, service: FlowService) -> None:
        create(service, "welcome")
        with refused("KEY_TAKEN"):
            create(service, "welcome")
        with refused("NOT_PUBLISHED"):
            create(service, "other", status="active")


class TestReads:
    def test_a_flow_is_found_by_its_key_and_an_unknown_key_is_404(self, service: FlowService) -> None:
        flow = create(service, "welcome")

        assert service.get_by_key(ALICE, "welcome") == flow
        with refused("FLOW_NOT_FOUND"):
            service.get_by_key(ALICE, "farewell")

    def test_a_list_is_the_tenants_flows_of_the_status_asked_a_page_at_a_time(self, service: FlowService) -> None:
        # Given two paused flows and a draft of this tenant, and a paused flow of another
        paused = [create(service, key, status="paused") for key in ("one", "two")]
        create(service, "draft")
        service.create(BOB, CreateFlowRequest.model_validate({"key": "bobs", "name": "B", "status": "paused"}))

        # When its paused flows are listed one at a time
        first = service.list(ALICE, FlowStatus.PAUSED, 1, None)
        second = service.list(ALICE, FlowStatus.PAUSED, 1, first.next_cursor)

        # Then the two pages hold its two paused flows, and no more follow
        assert {flow.id for flow in first.items + second.items} == {flow.id for flow in paused}
        assert (len(first.items), first.total, second.next_cursor) == (1, 2, None)

    def test_a_flows_versions_are_listed_a_page_at_a_time_and_an_unknown_flow_is_404(
        self, service: FlowService
    ) -> None:
        flow = publish(service, publish(service, create(service)))

        first = service.versions(ALICE, flow.id, 1, None)
        second = service.versions(ALICE, flow.id, 1, first.next_cursor)

        assert sorted(version.version for version in first.items + second.items) == [1, 2]
        assert (len(first.items), second.next_cursor) == (1, None)
        with refused("FLOW_NOT_FOUND"):
            service.versions(ALICE, "df_" + "0" * 24, 1, None)


class TestUpdate:
    def test_each_write_bumps_row_version_and_names_its_action(self, service: FlowService) -> None:
        flow = create(service)
        renamed = update(service, flow, name="Renamed")
        paused = update(service, renamed, status="paused")
        assert [(f.row_version, f.last_action) for f in (renamed, paused)] == [
            (2, FlowAction.UPDATED),
            (3, FlowAction.STATUS_CHANGED),
        ]

    def test_an_update_that_changes_nothing_writes_nothing(self, service: FlowService) -> None:
        flow = create(service)
        assert update(service, flow, name=flow.name).row_version == 1

    @pytest.mark.parametrize("guard", [{}, {"rowVersion": None}])
    def test_an_update_that_changes_nothing_leaves_the_flow_as_stored(
        self, service: FlowService, guard: dict[str, Any]
    ) -> None:
        # Given a flow
        flow = create(service)

        # When a PUT sends its name as it is (with or without a rowVersion)
        answered = update(service, flow, name=flow.name, **guard)

        # Then it answers the flow, which is still stored as it was
        assert answered == flow
        assert service.get(ALICE, flow.id) == flow

    def test_stale_ambiguous_and_null_updates_are_refused(self, service: FlowService) -> None:
        flow = create(service)
        update(service, flow, name="Moved on")
        with refused("ROW_VERSION_MISMATCH"):
            update(service, flow, name="Late", rowVersion=1)
        with refused("ROW_VERSION_AMBIGUOUS"):
            update(service, flow, name="Which", rowVersion=2, if_match=3)
        with refused("VALIDATION_ERROR"):
            update(service, flow, name=None)
        with refused("NOT_PUBLISHED"):
            update(service, flow, status="active")

    def test_a_write_overtaken_after_its_read_is_409_and_lands_nothing(
        self, service: FlowService, store: InMemoryFlowStore
    ) -> None:
        # Given a flow, and another writer that renames it right after our update has read it
        flow = create(service)
        store.overtake_next_read(lambda: update(service, flow, name="First"))

        # When our update writes what it decided from its read
        with refused("ROW_VERSION_MISMATCH"):
            update(service, flow, name="Second")

        # Then the other writer's rename stands, and nothing of ours landed
        stored = store.get_flow(ALICE.tenant_id, flow.id)
        assert stored is not None
        assert (stored.name, stored.row_version) == ("First", 2)

    def test_moving_to_a_taken_key_is_409_and_frees_nothing(
        self, service: FlowService, store: InMemoryFlowStore
    ) -> None:
        first, second = create(service, "first"), create(service, "second")
        with refused("KEY_TAKEN"):
            update(service, second, key="first")
        assert (store.key_owner("tenant-a", "first"), store.key_owner("tenant-a", "second")) == (first.id, second.id)


class TestPublish:
    def test_publishing_snapshots_the_draft_as_the_next_live_version(self, service: FlowService) -> None:
        flow = publish(service, create(service))
        assert (flow.live_version, flow.latest_version, flow.status, flow.row_version) == (1, 1, "active", 2)
        version = service.version(ALICE, flow.id, 1)
        assert version.config is not None
        assert json.loads(version.config) == draft(flow)

    def test_a_draft_without_a_scoring_method_is_422(self, service: FlowService) -> None:
        flow = create(service, draftConfig={"version": 2, "nodes": [], "edges": []})
        with refused("SCORING_METHOD_MISSING"):
            publish(service, flow)
        v1_without_scoring = create(service, "v1", draftConfig={"stages": {"ranking": {"top": 3}}})
        with refused("SCORING_METHOD_MISSING"):
            publish(service, v1_without_scoring)

    def test_expected_current_version_must_be_the_live_one(self, service: FlowService) -> None:
        flow = publish(service, create(service))
        with refused("CURRENT_VERSION_MISMATCH"):
            publish(service, flow, expectedCurrentVersion=2)
        assert publish(service, flow, expectedCurrentVersion=1).live_version == 2

    def test_the_flow_keeps_the_latest_20_summaries_oldest_first(self, service: FlowService) -> None:
        flow = create(service)
        for _ in range(PUBLISHED_VERSIONS_ON_FLOW + 5):
            flow = publish(service, flow)
        numbers = [summary.version for summary in flow.published_versions]
        assert numbers == list(range(6, PUBLISHED_VERSIONS_ON_FLOW + 6))

    def test_a_captured_config_is_published_in_place_of_the_draft_with_its_own_hash(self, service: FlowService) -> None:
        # Given a draft a change request captured, and a later edit of the draft
        captured = create(service, draftConfig=v2_config("captured"))
        assert captured.draft_config is not None
        flow = update(service, captured, draftConfig=v1_config("scorecard"))

        # When the change request's publish is planned with the captured config and written
        plan = service.plan_publish(ALICE, PublishRequest.model_validate({"id": flow.id}), None, captured.draft_config)
        published = service.write(plan)

        # Then the captured config, hashed as such, is the version made live and the draft
        version = service.version(ALICE, flow.id, 1)
        assert (version.config, version.config_hash) == (captured.draft_config, captured.draft_hash)
        assert (published.draft_config, published.live_config_hash) == (captured.draft_config, captured.draft_hash)

    def test_a_dry_run_diffs_the_flow_it_names_against_its_live_version(self, service: FlowService) -> None:
        # Given v1 live and a draft moved on
        flow = update(service, publish(service, create(service)), draftConfig=v1_config("scorecard"))

        # When a publish is tried as a dry run
        preview = service.preview_publish(ALICE, PublishRequest.model_validate({"id": flow.id}), None)

        # Then its diff names the flow, from live v1 to the draft
        assert (preview.diff.flow_id, preview.diff.old.version, preview.diff.identical) == (flow.id, 1, False)
        assert preview.flow.latest_version == 2


class TestRollback:
    @pytest.fixture
    def twice_published(self, service: FlowService) -> Flow:
        flow = publish(service, create(service, draftConfig=v2_config("a")))
        flow = update(service, flow, draftConfig=v1_config("scorecard"))
        return publish(service, flow)

    def test_a_rollback_appends_a_copy_that_goes_live_and_becomes_the_draft(
        self, service: FlowService, twice_published: Flow
    ) -> None:
        restored = rollback(service, twice_published, 1, notes="v2 broke ranking")
        assert (restored.live_version, restored.latest_version, restored.status) == (3, 3, FlowStatus.ACTIVE)
        assert draft(restored) == v2_config("a")
        v3 = service.version(ALICE, restored.id, 3)
        assert (v3.restored_from, v3.notes) == (1, "Rollback to v1: v2 broke ranking")
        assert v3.config == service.version(ALICE, restored.id, 1).config

    def test_without_notes_the_note_is_the_prefix_alone(self, service: FlowService, twice_published: Flow) -> None:
        restored = rollback(service, twice_published, 1)
        assert service.version(ALICE, restored.id, 3).notes == "Rollback to v1"

    def test_refusals(self, service: FlowService, twice_published: Flow) -> None:
        with refused("ALREADY_ACTIVE"):
            rollback(service, twice_published, 2)
        with refused("VERSION_NOT_FOUND"):
            rollback(service, twice_published, 9)
        with refused("CURRENT_VERSION_MISMATCH"):
            rollback(service, twice_published, 1, expectedCurrentVersion=1)
        with refused("ROW_VERSION_MISMATCH"):
            rollback(service, twice_published, 1, rowVersion=1)
        gone = twice_published.model_copy(update={"id": "df_" + "0" * 24})
        with refused("FLOW_NOT_FOUND"):
            rollback(service, gone, 1)


def test_a_deleted_flows_versions_and_key_go_with_it(service: FlowService, store: InMemoryFlowStore) -> None:
    flow = publish(service, create(service))
    service.delete(ALICE, flow.id, None)
    with refused("FLOW_NOT_FOUND"):
        service.version(ALICE, flow.id, 1)
    assert create(service, "welcome").key == "welcome"  # the key is free again


def test_a_delete_records_who_deleted_the_flow_and_when(service: FlowService, store: InMemoryFlowStore) -> None:
    flow = create(service)

    service.delete(ALICE, flow.id, None)

    assert store.tombstones[(flow.tenant_id, flow.id)] == ("alice", "2026-11-28T00:00:00.001Z")


# --- staged rollouts ---------------------------------------------------------------------------


def challenged(service: FlowService, percent: float = 10) -> Flow:
    """v1 live, and v2 (another config) published as the challenger."""
    flow = update(service, publish(service, create(service)), draftConfig=v2_config("two"))
    return publish(service, flow, rollout={"percent": percent})


def step(service: FlowService, flow: Flow, kind: str, **fields: Any) -> Flow:
    body = {"id": flow.id, **fields}
    if kind == "share":
        return service.change_rollout(ALICE, RolloutRequest.model_validate(body), None)
    if kind == "promote":
        return service.promote(ALICE, PromoteRequest.model_validate(body), None)
    return service.abort(ALICE, AbortRequest.model_validate(body), None)


def test_a_challenger_is_appended_while_the_champion_stays_live(service: FlowService) -> None:
    flow = challenged(service, 12.5)
    assert (flow.live_version, flow.latest_version, flow.last_action) == (1, 2, FlowAction.ROLLOUT_STARTED)
    assert flow.rollout is not None
    assert (flow.rollout.challenger_version, flow.rollout.basis_points) == (2, 1250)
    with refused("ROLLOUT_IN_PROGRESS"):
        publish(service, flow)


def test_promote_makes_the_challenger_live_and_abort_the_champion(service: FlowService) -> None:
    promoted = step(service, challenged(service), "promote", notes="wins")
    assert (promoted.live_version, promoted.rollout, promoted.last_notes) == (2, None, "wins")
    assert not promoted.has_unpublished_changes
    second = publish(service, update(service, promoted, draftConfig=v2_config("3")), rollout={"percent": 5})
    aborted = step(service, second, "abort")
    assert (aborted.live_version, aborted.latest_version, aborted.rollout) == (2, 3, None)


def test_steps_need_a_rollout_and_the_champion_they_name(service: FlowService) -> None:
    plain = publish(service, create(service, key="plain"))
    with refused("NO_ROLLOUT"):
        step(service, plain, "promote")
    flow = challenged(service)
    with refused("CURRENT_VERSION_MISMATCH"):
        step(service, flow, "share", percent=20, expectedCurrentVersion=2)
    shared = step(service, flow, "share", percent=20, expectedCurrentVersion=1)
    assert shared.rollout is not None
    assert shared.rollout.basis_points == 2000


def test_a_rollback_during_a_rollout_ends_it_even_to_the_champions_config(service: FlowService) -> None:
    back = rollback(service, challenged(service), 1)
    assert (back.live_version, back.rollout, back.last_action) == (3, None, FlowAction.ROLLED_BACK)


# --- rollout overrides: include and exclude -----------------------------------------------------


def test_a_rollout_may_start_at_zero_percent_with_its_overrides(service: FlowService) -> None:
    flow = update(service, publish(service, create(service)), draftConfig=v2_config("two"))

    started = publish(service, flow, rollout={"percent": 0, "include": ["qa-2", "qa-1", "qa-2"], "exclude": ["vip"]})

    assert started.rollout is not None
    # a list is a set: sorted, each subject once
    assert (started.rollout.basis_points, started.rollout.include, started.rollout.exclude) == (
        0,
        ["qa-1", "qa-2"],
        ["vip"],
    )


def test_a_subject_in_both_lists_is_refused_before_anything_is_read(service: FlowService) -> None:
    flow = publish(service, create(service))
    with pytest.raises(DomainError) as refusal:
        publish(service, flow, rollout={"percent": 5, "include": ["a", "b"], "exclude": ["b"]})
    assert (refusal.value.code, [p.field for p in refusal.value.errors]) == ("VALIDATION_ERROR", ["rollout.exclude"])
    assert "'b'" in refusal.value.errors[0].message


def test_a_rollout_change_replaces_the_lists_it_sends_and_keeps_the_rest(service: FlowService) -> None:
    flow = step(service, challenged(service, 10), "share", include=["qa"], exclude=["vip"])

    widened = step(service, flow, "share", percent=20)
    emptied = step(service, widened, "share", include=[])

    assert widened.rollout is not None
    assert emptied.rollout is not None
    assert (widened.rollout.basis_points, widened.rollout.include, widened.rollout.exclude) == (2000, ["qa"], ["vip"])
    assert (emptied.rollout.basis_points, emptied.rollout.include, emptied.rollout.exclude) == (2000, [], ["vip"])


def test_a_change_that_would_put_a_subject_in_both_lists_is_refused(service: FlowService) -> None:
    flow = step(service, challenged(service), "share", include=["qa"])
    with pytest.raises(DomainError) as refusal:
        step(service, flow, "share", exclude=["qa"])  # include is kept, so qa would be in both
    assert (refusal.value.code, refusal.value.errors[0].field) == ("VALIDATION_ERROR", "exclude")
    assert service.get(ALICE, flow.id).row_version == flow.row_version


def test_a_change_to_what_is_stored_already_writes_nothing(service: FlowService) -> None:
    flow = step(service, challenged(service, 10), "share", include=["b", "a"])

    same = step(service, flow, "share", percent=10, include=["a", "b", "a"])

    assert same == flow
    assert service.get(ALICE, flow.id).row_version == flow.row_version


def test_override_lists_past_their_byte_budget_are_refused(service: FlowService) -> None:
    flow = challenged(service)
    long_subjects = [f"{n:03}" + "é" * 253 for n in range(65)]  # 509 bytes each, 33 085 together
    with pytest.raises(DomainError) as refusal:
        step(service, flow, "share", include=long_subjects)
    assert (refusal.value.code, refusal.value.errors[0].field) == ("VALIDATION_ERROR", "include")
    assert step(service, flow, "share", include=long_subjects[:64]).rollout is not None  # 32 576 bytes fit
