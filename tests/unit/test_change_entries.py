"""The history entry each change leaves, derived from the flow before and after (no stream, no store)."""

from __future__ import annotations

from decision_flows.domain.history import change_entry, changed_fields
from decision_flows.models.flow import Flow, FlowAction, FlowStatus, VersionSummary

NOW = "2026-11-22T12:00:00.000Z"


def flow(**changes: object) -> Flow:
    base = Flow(
        id="df_1",
        tenant_id="t",
        key="k",
        name="n",
        draft_config='{"a":1}',
        draft_hash="h1",
        created_at=NOW,
        updated_at=NOW,
        created_by="alice",
        updated_by="alice",
    )
    return base.model_copy(update=changes)


def test_a_create_is_created_by_its_author() -> None:
    entry = change_entry("e1", None, flow())
    assert (entry.action, entry.actor, entry.row_version, entry.changes) == (FlowAction.CREATED, "alice", 1, None)


def test_a_rollback_names_previous_live_new_and_restored_versions() -> None:
    live = flow(live_version=2, latest_version=2, live_config_hash="h1", status=FlowStatus.ACTIVE)
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


def test_an_overwritten_unpublished_draft_is_kept_whatever_the_action() -> None:
    before = flow(live_version=1, live_config_hash="h0", draft_hash="h1", draft_config='{"unpublished":true}')
    for action in (FlowAction.UPDATED, FlowAction.PUBLISHED, FlowAction.ROLLED_BACK):
        after = before.model_copy(update={"draft_hash": "h2", "row_version": 2, "last_action": action})
        assert change_entry("e", before, after).previous_draft == '{"unpublished":true}'


def test_changed_fields_name_contract_fields_and_config_hashes() -> None:
    before = flow()
    after = before.model_copy(update={"auto_assembly": False, "draft_hash": "h2", "description": "d"})

    assert changed_fields(before, after) == {
        "autoAssembly": {"from": True, "to": False},
        "draftConfig": {"from": "h1", "to": "h2"},
        "description": {"from": None, "to": "d"},
    }
