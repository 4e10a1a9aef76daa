"""Response bodies built from stored models: optional members and hasUnpublishedChanges."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows.domain.pipeline import DEFAULT_DRAFT_CONFIG, canonical_json, config_hash
from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion, VersionSummary
from decision_flows.web.views.flows import FlowView, VersionSummaryView
from decision_flows.web.views.versions import VersionDetailView, VersionListItemView

DRAFT = canonical_json({"version": 2, "nodes": [{"id": "s", "type": "score", "config": {"method": "scorecard"}}]})
AT = "2026-11-22T12:00:00.000Z"


def summary(version: int, restored_from: int | None = None) -> VersionSummary:
    return VersionSummary(
        version=version, published_at=AT, published_by="ed@a.example", notes=None, restored_from=restored_from
    )


def flow(**changes: Any) -> Flow:
    fields: dict[str, Any] = {
        "id": "df_1",
        "tenant_id": "tenant-a",
        "key": "checkout",
        "name": "Checkout",
        "draft_config": DRAFT,
        "draft_hash": config_hash(DRAFT),
        "created_at": AT,
        "updated_at": AT,
        "created_by": "ed@a.example",
        "updated_by": "ed@a.example",
    }
    return Flow(**(fields | changes))


def published_flow() -> Flow:
    return flow(
        status=FlowStatus.ACTIVE,
        live_config_hash=config_hash(DRAFT),
        published_versions=[summary(1), summary(2, restored_from=1)],
        live_version=2,
        latest_version=2,
        row_version=3,
    )


# --- FlowView ----------------------------------------------------------------------------------


def test_flow_view_has_every_contract_member_in_camel_case() -> None:
    body = FlowView.of(published_flow()).to_json_dict()
    assert set(body) == {
        "id",
        "tenantId",
        "key",
        "name",
        "description",
        "status",
        "autoAssembly",
        "draftConfig",
        "publishedVersions",
        "liveVersion",
        "latestVersion",
        "hasUnpublishedChanges",
        "rowVersion",
        "createdAt",
        "updatedAt",
        "createdBy",
        "updatedBy",
        "rollout",
    }
    assert body["rollout"] is None  # no staged rollout runs
    assert body["status"] == "active"
    assert body["draftConfig"] == {
        "version": 2,
        "nodes": [{"id": "s", "type": "score", "config": {"method": "scorecard"}}],
    }
    assert (body["liveVersion"], body["latestVersion"], body["rowVersion"]) == (2, 2, 3)


def test_flow_view_omits_draft_config_when_not_asked() -> None:
    # Given a flow with a draft / When viewed without its config
    body = FlowView.of(published_flow(), with_config=False).to_json_dict()
    # Then the member is absent (not null), and the rest is there
    assert "draftConfig" not in body
    assert len(body["publishedVersions"]) == 2


def test_flow_view_omits_draft_config_read_from_the_list_index() -> None:
    # The list index never projects the draft: the stored model has none
    assert "draftConfig" not in FlowView.of(flow(draft_config=None)).to_json_dict()


def test_flow_view_omits_published_versions_when_not_asked() -> None:
    body = FlowView.of(published_flow(), with_versions=False).to_json_dict()
    assert "publishedVersions" not in body
    assert body["liveVersion"] == 2
    assert body["latestVersion"] == 2
    assert "draftConfig" in body


def test_flow_view_keeps_empty_published_versions() -> None:
    # A new flow returns `publishedVersions: []`, not an absent member
    body = FlowView.of(flow()).to_json_dict()
    assert body["publishedVersions"] == []
    assert (body["liveVersion"], body["latestVersion"]) == (None, None)


def test_flow_view_keeps_null_description() -> None:
    body = FlowView.of(flow(description=None)).to_json_dict()
    assert "description" in body
    assert body["description"] is None


def test_flow_view_keeps_empty_draft_config_object() -> None:
    empty = canonical_json({})
    body = FlowView.of(flow(draft_config=empty, draft_hash=config_hash(empty))).to_json_dict()
    assert body["draftConfig"] == {}


# --- hasUnpublishedChanges ---------------------------------------------------------------------


def test_has_unpublished_changes_before_the_first_publish() -> None:
    # Given a flow never published (no live config hash)
    never_published = flow(live_config_hash=None)
    # Then it has unpublished changes, even with the default draft
    assert FlowView.of(never_published).to_json_dict()["hasUnpublishedChanges"] is True
    default = canonical_json(DEFAULT_DRAFT_CONFIG)
    assert flow(draft_config=default, draft_hash=config_hash(default)).has_unpublished_changes is True


def test_no_unpublished_changes_when_draft_equals_live() -> None:
    assert FlowView.of(published_flow()).to_json_dict()["hasUnpublishedChanges"] is False


def test_unpublished_changes_when_draft_differs_from_live() -> None:
    edited = flow(live_config_hash=config_hash(canonical_json({"version": 2, "nodes": []})), live_version=1)
    assert FlowView.of(edited).to_json_dict()["hasUnpublishedChanges"] is True


# --- version views -----------------------------------------------------------------------------


def test_version_summary_omits_restored_from_when_none() -> None:
    body = VersionSummaryView.of(summary(1)).to_json_dict()
    assert body == {"version": 1, "publishedAt": AT, "publishedBy": "ed@a.example", "notes": None}


def test_version_summary_keeps_restored_from_when_set() -> None:
    body = VersionSummaryView.of(summary(6, restored_from=3)).to_json_dict()
    assert body["restoredFrom"] == 3
    assert body["version"] == 6


def test_published_versions_on_the_flow_omit_restored_from_per_item() -> None:
    items = FlowView.of(published_flow()).to_json_dict()["publishedVersions"]
    assert ["restoredFrom" in item for item in items] == [False, True]
    assert items[1]["restoredFrom"] == 1


def published_version(restored_from: int | None) -> PublishedVersion:
    return PublishedVersion(
        version=4,
        published_at=AT,
        published_by="ed@a.example",
        notes="n",
        restored_from=restored_from,
        node_count=1,
        scoring_method="scorecard",
        config_hash=config_hash(DRAFT),
        config=DRAFT,
    )


@pytest.mark.parametrize("restored_from", [None, 2])
def test_version_list_item_carries_the_summary(restored_from: int | None) -> None:
    body = VersionListItemView.of_version(published_version(restored_from)).to_json_dict()
    assert body["summary"] == {"nodeCount": 1, "scoringMethod": "scorecard"}
    assert ("restoredFrom" in body) is (restored_from is not None)
    assert "configSnapshot" not in body


@pytest.mark.parametrize("restored_from", [None, 2])
def test_version_detail_carries_the_snapshot(restored_from: int | None) -> None:
    body = VersionDetailView.of_version("df_1", published_version(restored_from)).to_json_dict()
    assert body["flowId"] == "df_1"
    assert body["configSnapshot"]["nodes"][0]["config"] == {"method": "scorecard"}
    assert body.get("restoredFrom") == restored_from
    assert ("restoredFrom" in body) is (restored_from is not None)
