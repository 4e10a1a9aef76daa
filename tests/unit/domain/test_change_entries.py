"""The history entry each change leaves, derived from the flow before and after (no stream, no store)."""

from __future__ import annotations

import json

from decision_flows.domain.history import LISTED_CHANGES, ConfigsChanged, change_entry, changed_fields
from decision_flows.models.flow import FlowAction, FlowStatus, VersionSummary
from decision_flows.models.history import ChangeEntry
from decision_flows_local.fixtures.samples import edge_heavy_config
from tests.support.configs import many_nodes
from tests.support.flows import NOW, a_flow


def test_a_create_is_created_by_its_author() -> None:
    entry = change_entry("e1", None, a_flow())
    assert (entry.action, entry.actor, entry.row_version, entry.changes) == (FlowAction.CREATED, "alice", 1, None)


def test_a_rollback_names_previous_live_new_and_restored_versions() -> None:
    live = a_flow(live_version=2, latest_version=2, live_config_hash="h1", status=FlowStatus.ACTIVE)
    summary = VersionSummary(version=3, published_at=NOW, published_by="bob", restored_from=1)
    after = live.model_copy(
        update={
            "live_version": 3,
            "latest_version": 3,
            "row_version": 2,
            "updated_by": "bob",
            "published_versions": [summary],
            "last_action": FlowAction.ROLLED_BACK,
            "draft_hash": "h0",
            "live_config_hash": "h0",
        }
    )

    entry = change_entry("e2", live, after)

    assert (entry.from_version, entry.to_version, entry.restored_from, entry.actor) == (2, 3, 1, "bob")
    assert entry.previous_draft is None  # the old draft was v2's config: its snapshot keeps it
    assert entry.rollout_ended is None  # no rollout was running


def test_an_overwritten_unpublished_draft_is_kept_whatever_the_action() -> None:
    before = a_flow(live_version=1, live_config_hash="h0", draft_hash="h1", draft_config='{"unpublished":true}')
    for action in (FlowAction.UPDATED, FlowAction.PUBLISHED, FlowAction.ROLLED_BACK):
        after = before.model_copy(update={"draft_hash": "h2", "row_version": 2, "last_action": action})
        assert change_entry("e", before, after).previous_draft == '{"unpublished":true}'


def test_changed_fields_name_contract_fields_and_config_hashes() -> None:
    before = a_flow()
    after = before.model_copy(update={"auto_assembly": False, "draft_hash": "h2", "description": "d"})

    assert changed_fields(before, after) == {
        "autoAssembly": {"from": True, "to": False},
        "draftConfig": {"from": "h1", "to": "h2"},
        "description": {"from": None, "to": "d"},
    }


V1 = '{"version":2,"nodes":[{"id":"s","type":"score","config":{"method":"propensity"}}],"edges":[]}'
V2 = (
    '{"version":2,"nodes":[{"id":"s","type":"score","config":{"method":"scorecard"}},{"id":"o","type":"output"}],'
    '"edges":[]}'
)


def test_an_edited_draft_says_what_changed_in_the_pipeline() -> None:
    before = a_flow(draft_config=V1, draft_hash="h1")
    after = before.model_copy(
        update={"draft_config": V2, "draft_hash": "h2", "row_version": 2, "last_action": FlowAction.UPDATED}
    )

    changes = change_entry("e", before, after).config_changes

    assert changes is not None
    assert changes["nodes"]["added"] == [{"id": "o", "type": "output"}]
    assert changes["nodes"]["changed"] == [{"id": "s", "type": "score", "paths": ["/config/method"]}]
    assert changes["scoringMethod"] == {"from": "propensity", "to": "scorecard"}
    renamed = before.model_copy(update={"name": "other", "row_version": 2, "last_action": FlowAction.UPDATED})
    assert change_entry("e", before, renamed).config_changes is None


def test_a_release_says_what_changed_in_what_is_live() -> None:
    before = a_flow(draft_config=V2, draft_hash="h2", live_version=1, live_config_hash="h1", status=FlowStatus.ACTIVE)
    after = before.model_copy(
        update={"live_version": 2, "live_config_hash": "h2", "row_version": 2, "last_action": FlowAction.PUBLISHED}
    )

    changes = change_entry("e", before, after, ConfigsChanged(V1, V2)).config_changes
    first = change_entry("e", before, after, ConfigsChanged(None, V2)).config_changes

    assert changes is not None
    assert changes["scoringMethod"] == {"from": "propensity", "to": "scorecard"}
    assert first is not None
    assert [node["id"] for node in first["nodes"]["added"]] == ["s", "o"]
    assert change_entry("e", before, after, None).config_changes is None  # the live snapshot was gone


def test_a_summary_too_long_for_the_entry_is_cut_and_says_so() -> None:
    # Given a 300 KB draft of 4 000 nodes replaced by another sharing none of them
    old_draft, new_draft = many_nodes("old-"), many_nodes("new-")
    before = a_flow(draft_config=old_draft, draft_hash="h1", live_version=1, live_config_hash="h0")
    after = before.model_copy(
        update={"draft_config": new_draft, "draft_hash": "h2", "row_version": 2, "last_action": FlowAction.UPDATED}
    )

    # When its entry is made, then it keeps the old draft, and the summary's lists are cut, saying so
    entry = change_entry("e", before, after)
    assert entry.previous_draft == old_draft
    assert entry.config_changes is not None
    assert entry.config_changes["truncated"] is True
    assert 0 < len(entry.config_changes["nodes"]["added"]) < 4000
    assert entry.config_changes["nodeCount"] == {"from": 4000, "to": 4000}
    assert "truncated" not in (change_entry("e", a_flow(draft_config=V1), a_flow(draft_config=V2)).config_changes or {})


def published_draft_edited(old_draft: str, new_draft: str) -> ChangeEntry:
    """The entry of a PUT replacing ``old_draft``, which was live (so it is not kept), with ``new_draft``."""
    before = a_flow(draft_config=old_draft, draft_hash="h1", live_version=1, live_config_hash="h1")
    after = before.model_copy(
        update={"draft_config": new_draft, "draft_hash": "h2", "row_version": 2, "last_action": FlowAction.UPDATED}
    )
    return change_entry("e", before, after)


def test_an_entry_lists_at_most_a_hundred_changes_of_each_kind() -> None:
    # Given a published 300 KB draft of 9 700 edges replaced by one sharing none of them (no draft to
    # keep, so the whole entry is the summary's)
    old_draft, new_draft = (json.dumps(edge_heavy_config(9_700, parity)) for parity in (0, 1))

    # When its entry is made, then each edge list holds the first LISTED_CHANGES, saying it was cut
    changes = published_draft_edited(old_draft, new_draft).config_changes
    assert changes is not None
    assert changes["truncated"] is True
    listed = [{"source": edge["source"], "target": edge["target"]} for edge in json.loads(new_draft)["edges"]]
    assert changes["edges"]["added"] == listed[:LISTED_CHANGES]
    assert len(changes["edges"]["removed"]) == LISTED_CHANGES
    assert changes["nodeCount"] == {"from": 200, "to": 200}


def test_an_entry_lists_at_most_a_hundred_paths_of_a_changed_node() -> None:
    # Given a draft whose one node's 1 000 weights all change
    old_draft, new_draft = (
        json.dumps({"version": 2, "nodes": [{"id": "s", "type": "score", "config": {"w": [weight] * 1000}}]})
        for weight in (1, 2)
    )

    # When its entry is made, then the node lists its first LISTED_CHANGES paths, saying it was cut
    changes = published_draft_edited(old_draft, new_draft).config_changes
    assert changes is not None
    assert changes["truncated"] is True
    (changed,) = changes["nodes"]["changed"]
    assert changed["paths"] == [f"/config/w/{index}" for index in range(LISTED_CHANGES)]
