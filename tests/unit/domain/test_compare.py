"""Diff, validate and dry run against the in-memory store: refs, refusals, and a dry run that writes nothing."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from decision_flows.domain.compare import CompareService, validate
from decision_flows.domain.errors import DomainError, PayloadTooLarge
from decision_flows.domain.pipeline import MAX_CONFIG_BYTES
from decision_flows.domain.service import FlowService
from decision_flows.models.flow import Flow
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows_local.fixtures.samples import config_of_size, v2_config
from tests.support.flow_service import ALICE, create, publish, update
from tests.support.in_memory_flows import InMemoryFlowStore


@pytest.fixture
def compare(store: InMemoryFlowStore) -> CompareService:
    return CompareService(store)


def code_of(call: Any) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def released_twice(service: FlowService) -> Flow:
    """v1 (propensity), v2 (scorecard) live, and a draft that moved on (method priority)."""
    flow = publish(service, create(service))
    flow = publish(service, update(service, flow, draftConfig=v2_config("welcome", method="scorecard")))
    return update(service, flow, draftConfig=v2_config("welcome", method="priority"))


def test_the_default_diff_is_live_to_draft_and_names_the_versions(
    service: FlowService, compare: CompareService
) -> None:
    flow = released_twice(service)

    diff = compare.diff(ALICE, flow.id, "live", "draft", with_patch=True)

    assert (diff.old.ref, diff.old.version, diff.new.ref, diff.new.version) == ("live", 2, "draft", None)
    assert diff.summary.scoring_method == ("scorecard", "priority")
    assert [(node.id, node.paths) for node in diff.summary.nodes_changed] == [("score", ["/config/method"])]
    assert diff.patch == [{"op": "replace", "path": "/nodes/1/config/method", "value": "priority"}]


def test_versions_compare_with_each_other_and_with_themselves(service: FlowService, compare: CompareService) -> None:
    flow = released_twice(service)
    assert compare.diff(ALICE, flow.id, "1", "2", with_patch=False).patch is None
    same = compare.diff(ALICE, flow.id, "2", "live", with_patch=True)
    assert (same.identical, same.patch) == (True, [])


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [("9", "draft", "VERSION_NOT_FOUND"), ("live", "draft", "NOT_PUBLISHED"), ("challenger", "draft", "NO_ROLLOUT")],
)
def test_refs_that_name_nothing_are_404(
    service: FlowService, compare: CompareService, old: str, new: str, code: str
) -> None:
    flow = create(service)
    assert code_of(lambda: compare.diff(ALICE, flow.id, old, new, with_patch=True)) == code


def test_another_tenants_flow_does_not_exist(service: FlowService, compare: CompareService) -> None:
    flow = publish(service, create(service))
    mallory = replace(ALICE, tenant_id="tenant-b")
    assert code_of(lambda: compare.diff(mallory, flow.id, "1", "1", with_patch=True)) == "FLOW_NOT_FOUND"
    assert code_of(lambda: compare.validate_draft(mallory, flow.id)) == "FLOW_NOT_FOUND"


def test_validate_reports_what_put_refuses_and_never_raises_for_it() -> None:
    report = validate(
        {"version": 2, "nodes": [{"id": "a", "type": "teleport"}], "edges": [{"source": "a", "target": "b"}]}
    )
    assert [(e.code, e.pointer()) for e in report.errors] == [
        ("UNKNOWN_NODE_TYPE", "/nodes/0/type"),
        ("EDGE_TO_UNKNOWN_NODE", "/edges/0/target"),
    ]
    assert (report.valid, report.publishable, report.warnings) == (False, False, [])
    assert not validate(["not", "an", "object"]).is_object
    assert [e.code for e in validate({"stages": {"scoring": {"weight": float("nan")}}}).errors] == ["NUMBER_NOT_FINITE"]


def test_validate_says_publishable_only_with_a_scoring_method() -> None:
    assert validate(v2_config()).publishable
    assert validate(v2_config()).blockers == []
    without = validate({"version": 2, "nodes": [], "edges": []})
    assert (without.valid, without.publishable) == (True, False)


def test_a_config_too_large_to_store_is_413_as_on_put() -> None:
    with pytest.raises(PayloadTooLarge):
        validate(config_of_size(MAX_CONFIG_BYTES + 2048))


def test_a_dry_run_answers_what_publish_would_do_and_writes_nothing(
    service: FlowService, store: InMemoryFlowStore
) -> None:
    flow = released_twice(service)
    before = copy.deepcopy((store.flows, store.versions, store.keys))

    preview = service.preview_publish(ALICE, PublishRequest.model_validate({"id": flow.id, "dryRun": True}), None)

    assert copy.deepcopy((store.flows, store.versions, store.keys)) == before
    real = service.publish(ALICE, PublishRequest(id=flow.id), None)
    stamped: dict[str, Any] = {"updated_at": True, "published_versions": {"__all__": {"published_at"}}}
    assert preview.flow.model_dump(exclude=stamped) == real.model_dump(exclude=stamped)
    assert preview.flow.published_versions[-1].version == 3
    assert (preview.diff.old.version, preview.diff.new.ref) == (2, "draft")
    assert preview.diff.summary.scoring_method == ("scorecard", "priority")


def test_a_dry_run_refuses_as_the_real_call(service: FlowService) -> None:
    flow = released_twice(service)
    stale = PublishRequest.model_validate({"id": flow.id, "rowVersion": 1, "dryRun": True})
    assert code_of(lambda: service.preview_publish(ALICE, stale, None)) == "ROW_VERSION_MISMATCH"
    same = RollbackRequest.model_validate({"id": flow.id, "version": 2, "dryRun": True})
    assert code_of(lambda: service.preview_rollback(ALICE, same, None)) == "ALREADY_ACTIVE"
    back = service.preview_rollback(
        ALICE, RollbackRequest.model_validate({"id": flow.id, "version": 1, "dryRun": True}), None
    )
    assert (back.diff.new.ref, back.diff.new.version, back.flow.live_version) == ("1", 1, 3)
