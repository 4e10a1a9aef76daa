"""The stream consumer's use case: one change of a flow becomes a history entry, a fresh live entry
and, for a delete, the removal of the flow's version items.

Every step is idempotent (history entries are written once per rowVersion, live writes are
version-guarded, purging finds less each time), because the stream delivers records at least once
and a partial batch failure redelivers the records after the failed one.
"""

from __future__ import annotations

from dataclasses import dataclass

from decision_flows.domain.history import RELEASES, LiveBefore, change_entry, deletion_entry
from decision_flows.domain.live import live_entry
from decision_flows.domain.store import ChangeLog, FlowStore, LiveCache
from decision_flows.models.changes import FlowTombstone
from decision_flows.models.flow import Flow


@dataclass(frozen=True)
class FlowWritten:
    event_id: str
    old: Flow | None
    new: Flow


@dataclass(frozen=True)
class FlowDeleted:
    event_id: str
    tombstone: FlowTombstone


Change = FlowWritten | FlowDeleted


class ChangeFeed:
    def __init__(self, log: ChangeLog, cache: LiveCache, flows: FlowStore) -> None:
        self._log = log
        self._cache = cache
        self._flows = flows

    def apply(self, change: Change) -> None:
        if isinstance(change, FlowDeleted):
            self._deleted(change)
        else:
            self._written(change)

    def _written(self, change: FlowWritten) -> None:
        old, new = change.old, change.new
        released = old is not None and new.last_action in RELEASES
        live_before = self._live_before(old) if old is not None and released else None
        self._log.record(change_entry(change.event_id, old, new, live_before))
        if old is not None and old.key != new.key:
            self._cache.release_live(old.tenant_id, old.key, old.id, new.row_version)
        # A new flow cannot be active yet (it is served after its first publish): nothing to cache.
        if old is not None and _live_state(old) != _live_state(new):
            self._cache.put_live(live_entry(new, self._flows))

    def _live_before(self, old: Flow) -> LiveBefore | None:
        """What was live before a release: from the record's old image, or (once the draft had moved on)
        the live snapshot; None when that is gone (the flow was deleted since)."""
        if old.live_version is None:
            return LiveBefore(None)
        if old.draft_hash == old.live_config_hash:
            return LiveBefore(old.draft_config)
        version = self._flows.get_version(old.tenant_id, old.id, old.live_version)
        return LiveBefore(version.config) if version is not None else None

    def _deleted(self, change: FlowDeleted) -> None:
        tombstone = change.tombstone
        self._log.record(deletion_entry(change.event_id, tombstone))
        self._cache.release_live(tombstone.tenant_id, tombstone.key, tombstone.flow_id, tombstone.row_version)
        self._flows.purge_deleted_flow(tombstone.tenant_id, tombstone.flow_id)


def _live_state(flow: Flow) -> tuple[object, ...]:
    """What a live entry depends on: edits of the name or the draft leave it as it is."""
    return flow.key, flow.status, flow.live_version, flow.live_config_hash
