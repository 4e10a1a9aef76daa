"""Change history: the entry each change of a flow leaves, derived from its state before and after.

Pure functions of the stored models, so the consumer's behaviour is testable without a stream.
"""

from __future__ import annotations

from typing import Any

from decision_flows.domain.errors import flow_not_found
from decision_flows.domain.store import ChangeLog, FlowStore
from decision_flows.models.changes import ChangeEntry, FlowTombstone
from decision_flows.models.flow import Flow, FlowAction
from decision_flows.models.identity import Identity
from decision_flows.models.page import Page

# Fields whose before/after an `updated` or `status_changed` entry lists (stored names -> contract names).
TRACKED_FIELDS = {
    "key": "key",
    "name": "name",
    "description": "description",
    "status": "status",
    "auto_assembly": "autoAssembly",
    "draft_hash": "draftConfig",
}
_RELEASES = (FlowAction.PUBLISHED, FlowAction.ROLLED_BACK)


def change_entry(event_id: str, old: Flow | None, new: Flow) -> ChangeEntry:
    """The entry for one write of a flow (``old`` is None when the write created it)."""
    fields: dict[str, Any] = {
        "event_id": event_id,
        "flow_id": new.id,
        "tenant_id": new.tenant_id,
        "action": FlowAction.CREATED if old is None else new.last_action,
        "actor": new.updated_by,
        "at": new.updated_at,
        "row_version": new.row_version,
    }
    if old is None:
        return ChangeEntry(**fields)
    if new.last_action in _RELEASES:
        fields["from_version"] = old.live_version
        fields["to_version"] = new.live_version
        fields["restored_from"] = new.published_versions[-1].restored_from if new.published_versions else None
    else:
        fields["changes"] = changed_fields(old, new)
    # An unpublished draft exists nowhere else once overwritten: keep it (never for a published one,
    # whose snapshot already holds it).
    if old.has_unpublished_changes and new.draft_hash != old.draft_hash:
        fields["previous_draft"] = old.draft_config
    return ChangeEntry(**fields)


def deletion_entry(event_id: str, tombstone: FlowTombstone) -> ChangeEntry:
    return ChangeEntry(
        event_id=event_id,
        flow_id=tombstone.flow_id,
        tenant_id=tombstone.tenant_id,
        action=FlowAction.DELETED,
        actor=tombstone.deleted_by,
        at=tombstone.deleted_at,
        row_version=tombstone.row_version,
        from_version=tombstone.live_version,
    )


def changed_fields(old: Flow, new: Flow) -> dict[str, dict[str, Any]]:
    changes = {}
    for stored, contract in TRACKED_FIELDS.items():
        before, after = getattr(old, stored), getattr(new, stored)
        if before != after:
            changes[contract] = {"from": before, "to": after}
    return changes


class HistoryService:
    def __init__(self, log: ChangeLog, flows: FlowStore) -> None:
        self._log = log
        self._flows = flows

    def history(self, identity: Identity, flow_id: str, limit: int, cursor: str | None) -> Page[ChangeEntry]:
        """Newest first. History outlives its flow, so only a flow with neither is 404; a flow whose
        first entry the consumer has not written yet has an empty history."""
        page = self._log.list_changes(identity.tenant_id, flow_id, limit, cursor)
        if not page.items and cursor is None and not self._flows.flow_exists(identity.tenant_id, flow_id):
            raise flow_not_found(flow_id)
        return page
