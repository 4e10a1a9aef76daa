"""The history entry each change leaves, derived from the flow before and after (no stream, no store)."""

from __future__ import annotations

import json
from typing import Any

from decision_flows.domain.history import (
    ENTRY_BYTES,
    LISTED_CHANGES,
    ConfigsChanged,
    change_entry,
    changed_fields,
    config_changes,
    deletion_entries,
)
from decision_flows.models.change_terms import ScheduleStatus
from decision_flows.models.flow import AppliedChange, FlowAction, FlowStatus, PlanStep, VersionSummary
from decision_flows.models.history import ChangeEntry, FlowTombstone
from decision_flows_local.fixtures.samples import edge_heavy_config
from tests.support.configs import many_nodes
from tests.support.flows import NOW, a_flow, a_rollout


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


def draft_edited(old_draft: str, new_draft: str, live_hash: str) -> ChangeEntry:
    """The entry of a PUT replacing ``old_draft`` (hash h1) with ``new_draft``, v1 being ``live_hash``."""
    before = a_flow(draft_config=old_draft, draft_hash="h1", live_version=1, live_config_hash=live_hash)
    after = before.model_copy(
        update={"draft_config": new_draft, "draft_hash": "h2", "row_version": 2, "last_action": FlowAction.UPDATED}
    )
    return change_entry("e", before, after)


def published_draft_edited(old_draft: str, new_draft: str) -> ChangeEntry:
    """``old_draft`` was live, so the entry does not keep it."""
    return draft_edited(old_draft, new_draft, live_hash="h1")


def unpublished_draft_edited(old_draft: str, new_draft: str) -> ChangeEntry:
    """``old_draft`` exists nowhere else, so the entry keeps it."""
    return draft_edited(old_draft, new_draft, live_hash="h0")


def test_a_summary_too_long_for_the_entry_is_cut_and_says_so() -> None:
    # Given a 300 KB draft of 4 000 nodes replaced by another sharing none of them
    old_draft, new_draft = many_nodes("old-"), many_nodes("new-")

    # When its entry is made, then it keeps the old draft, and the summary's lists are cut, saying so
    entry = unpublished_draft_edited(old_draft, new_draft)
    assert entry.previous_draft == old_draft
    assert entry.config_changes is not None
    assert entry.config_changes["truncated"] is True
    assert 0 < len(entry.config_changes["nodes"]["added"]) < 4000
    assert entry.config_changes["nodeCount"] == {"from": 4000, "to": 4000}
    assert "truncated" not in (change_entry("e", a_flow(draft_config=V1), a_flow(draft_config=V2)).config_changes or {})


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


def test_an_entry_lists_a_hundred_changes_of_a_kind_whole() -> None:
    # Given a published draft of one node replaced by one of LISTED_CHANGES others
    nodes = [{"id": f"n{index}", "type": "output"} for index in range(LISTED_CHANGES)]
    old_draft = json.dumps({"version": 2, "nodes": [{"id": "s", "type": "output"}], "edges": []})

    # When its entry is made, then every added node is listed, and nothing says it was cut
    changes = published_draft_edited(old_draft, json.dumps({"version": 2, "nodes": nodes, "edges": []})).config_changes
    assert changes is not None
    assert changes["nodes"]["added"] == nodes
    assert "truncated" not in changes


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


def one_output(node_id: str) -> str:
    """A config of one output node, whose summary grows byte for byte with ``node_id``."""
    return json.dumps({"version": 2, "nodes": [{"id": node_id, "type": "output"}], "edges": []})


def bytes_of(summary: dict[str, Any] | None) -> int:
    return len(json.dumps(summary, ensure_ascii=False).encode())


def test_a_summary_exactly_filling_the_entry_is_kept_whole_and_one_byte_beside_it_cuts_it() -> None:
    # Given a config whose summary takes exactly the entry's room
    filling = one_output("n" * (ENTRY_BYTES - bytes_of(config_changes(None, one_output("")))))

    # When it is summarised alone, and beside one byte of the entry's other fields
    whole = config_changes(None, filling)
    cut = config_changes(None, filling, beside=1)

    # Then the first is whole, and the second is cut, saying so
    assert bytes_of(whole) == ENTRY_BYTES
    assert "truncated" not in whole
    assert cut["truncated"] is True
    assert cut["nodes"]["added"] == []


def test_a_summary_over_its_room_keeps_the_longest_lists_first_half_and_the_others_whole() -> None:
    # Given 2 small nodes joined by an edge, then 60 nodes of 7 000-byte ids (420 KB of summary)
    small = [{"id": "s", "type": "output"}, {"id": "t", "type": "output"}]
    large = [{"id": f"{n:02}" + "n" * 7000, "type": "output"} for n in range(60)]
    config = {"version": 2, "nodes": small + large, "edges": [{"source": "s", "target": "t"}]}

    # When it is summarised
    changes = config_changes(None, json.dumps(config))

    # Then the added nodes are halved once, to the first half of them, which fits; the edge stays
    assert changes["truncated"] is True
    assert changes["nodes"]["added"] == (small + large)[:31]
    assert changes["edges"]["added"] == [{"source": "s", "target": "t"}]
    assert bytes_of(changes) <= ENTRY_BYTES


def test_a_kept_draft_leaves_the_summary_only_the_rest_of_the_entry() -> None:
    # Given an unpublished 250 KB draft, replaced by one adding 40 nodes of 5 000-byte ids (200 KB of
    # summary: room enough alone, not beside the kept draft)
    kept = {"id": "s", "type": "output", "config": {"pad": "p" * 250_000}}
    added = [{"id": f"{n:02}" + "n" * 5000, "type": "output"} for n in range(40)]
    old_draft = json.dumps({"version": 2, "nodes": [kept], "edges": []})
    new_draft = json.dumps({"version": 2, "nodes": [kept, *added], "edges": []})

    # When its entry is made
    entry = unpublished_draft_edited(old_draft, new_draft)

    # Then the draft is kept and the summary is cut to what fits beside it
    assert entry.previous_draft == old_draft
    assert entry.config_changes is not None
    assert entry.config_changes["truncated"] is True
    assert 0 < len(entry.config_changes["nodes"]["added"]) < len(added)
    assert bytes_of(entry.config_changes) + len(old_draft) <= ENTRY_BYTES


def test_a_rollout_steps_overrides_leave_its_summary_only_the_rest_of_the_entry() -> None:
    # Given a rollout whose include and exclude lists hold 16 000 bytes each, moved to 20 %
    include = [f"i{n:02}" + "i" * 997 for n in range(16)]
    exclude = [f"e{n:02}" + "e" * 997 for n in range(16)]
    rollout = a_rollout()
    before = a_flow(status=FlowStatus.ACTIVE, live_version=2, latest_version=3, live_config_hash="h1", rollout=rollout)
    moved = rollout.model_copy(update={"basis_points": 2000, "include": include, "exclude": exclude})
    after = before.model_copy(update={"rollout": moved, "row_version": 2, "last_action": FlowAction.ROLLOUT_CHANGED})
    # and a challenger whose summary against the champion leaves room for one list, not both
    champion = one_output("champion")
    room = ENTRY_BYTES - 24_000 - bytes_of(config_changes(champion, one_output("")))
    challenger = one_output("c" * room)

    # When its entry is made
    entry = change_entry("e", before, after, ConfigsChanged(champion, challenger))

    # Then it lists the overrides, and the summary is cut to what fits beside both lists
    assert (entry.basis_points, entry.include, entry.exclude) == (2000, include, exclude)
    assert entry.config_changes is not None
    assert entry.config_changes["truncated"] is True
    assert bytes_of(entry.config_changes) + len("".join(include + exclude)) <= ENTRY_BYTES


def test_the_write_applying_a_change_request_names_it() -> None:
    before = a_flow(live_version=1, live_config_hash="h1", status=FlowStatus.ACTIVE)
    applied = AppliedChange(change_id="cr_1", author="alice", approved_by=["bob", "carol"])
    after = before.model_copy(
        update={"live_version": 2, "row_version": 2, "last_action": FlowAction.PUBLISHED, "last_change": applied}
    )

    entry = change_entry("e", before, after)

    assert (entry.change_id, entry.author, entry.approved_by) == ("cr_1", "alice", ["bob", "carol"])


def test_a_delete_leaves_its_entry_then_the_plan_steps_it_cancelled() -> None:
    # Given a live flow deleted by bob while its rollout plan had a step to come
    step = PlanStep(after="PT1H", basis_points=2500, run_at=NOW, status=ScheduleStatus.CANCELLED)
    tombstone = FlowTombstone(
        flow_id="df_1",
        tenant_id="t",
        key="k",
        status=FlowStatus.ACTIVE,
        live_version=4,
        row_version=9,
        deleted_at=NOW,
        deleted_by="bob",
        cancelled_steps=[step],
    )

    # When its entries are made
    deleted, cancelled = deletion_entries("e9", tombstone)

    # Then the first says who deleted what was live, and the second which steps will not run
    assert (
        deleted.model_dump()
        == ChangeEntry(
            event_id="e9",
            flow_id="df_1",
            tenant_id="t",
            action=FlowAction.DELETED,
            actor="bob",
            at=NOW,
            row_version=9,
            from_version=4,
        ).model_dump()
    )
    assert (cancelled.event_id, cancelled.action, cancelled.actor, cancelled.steps) == (
        "e9#plan",
        FlowAction.PLAN_CANCELLED,
        "bob",
        [step],
    )
