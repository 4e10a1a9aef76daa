"""The stream consumer's use case: one change of a flow becomes a history entry, a fresh live entry
and, for a delete, the removal of the flow's version items.

Every step is idempotent (history entries are written once per rowVersion, live writes are
version-guarded, purging finds less each time), because the stream delivers records at least once
and a partial batch failure redelivers the records after the failed one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from decision_flows.domain.history import (
    ConfigsChanged,
    change_entry,
    change_request_entry,
    deletion_entries,
    plan_cancelled_entry,
    policy_entry,
)
from decision_flows.domain.live import live_entry, version_config
from decision_flows.models.flow import Flow, FlowAction
from decision_flows.models.history import FlowTombstone

if TYPE_CHECKING:
    from decision_flows.domain.ports import ChangeStore, FlowStore, History, LivePointers

    # Built by the access layer when such a record comes: most records are flow writes.
    from decision_flows.models.change import ChangeRequest
    from decision_flows.models.policy import Policy


class FlowWritten(NamedTuple):
    event_id: str
    old: Flow | None
    new: Flow


class FlowDeleted(NamedTuple):
    event_id: str
    tombstone: FlowTombstone


class PolicyWritten(NamedTuple):
    event_id: str
    old: Policy | None
    new: Policy


class ChangeRequestWritten(NamedTuple):
    event_id: str
    old: ChangeRequest | None
    new: ChangeRequest


Change = FlowWritten | FlowDeleted | PolicyWritten | ChangeRequestWritten


class SnapshotGone(LookupError):
    """A snapshot a history entry compares is no longer there: its flow was deleted since."""


class ChangeFeed:
    def __init__(
        self, history: History, pointers: LivePointers, flows: FlowStore, changes: ChangeStore | None = None
    ) -> None:
        """Without ``changes``, deleting a flow leaves its open change requests as they are."""
        self._history = history
        self._pointers = pointers
        self._flows = flows
        self._changes = changes

    def apply(self, change: Change) -> None:
        if isinstance(change, FlowDeleted):
            self._deleted(change)
        elif isinstance(change, PolicyWritten):
            self._history.record(policy_entry(change.event_id, change.old, change.new))
        elif isinstance(change, ChangeRequestWritten):
            entry = change_request_entry(change.event_id, change.new)
            if entry is not None:
                self._history.record(entry)
        else:
            self._written(change)

    def _written(self, change: FlowWritten) -> None:
        old, new = change.old, change.new
        configs = self._configs_changed(old, new) if old is not None else None
        self._history.record(change_entry(change.event_id, old, new, configs))
        cancelled = plan_cancelled_entry(change.event_id, old, new)
        if cancelled is not None:
            self._history.record(cancelled)
        if old is not None and old.key != new.key:
            self._pointers.release_live(old.tenant_id, old.key, old.id, new.row_version)
        # A new flow cannot be active yet (it is served after its first publish): nothing to cache.
        if old is not None and _live_state(old) != _live_state(new):
            self._pointers.put_live(live_entry(new, self._flows))

    def _configs_changed(self, old: Flow, new: Flow) -> ConfigsChanged | None:
        """For a release or a rollout step: the config before and after, as its history entry compares
        them (None when a snapshot it needs is gone: the flow was deleted since)."""
        action = new.last_action
        try:
            if action in (FlowAction.PUBLISHED, FlowAction.ROLLED_BACK, FlowAction.ROLLOUT_STARTED):
                return ConfigsChanged(self._live_config(old), new.draft_config)
            if action in (FlowAction.ROLLOUT_CHANGED, FlowAction.ROLLOUT_PROMOTED):
                return ConfigsChanged(self._live_config(old), self._challenger_config(old))
            if action == FlowAction.ROLLOUT_ABORTED:
                return ConfigsChanged(self._challenger_config(old), self._live_config(old))
        except SnapshotGone:
            pass
        return None

    def _live_config(self, flow: Flow) -> str | None:
        """What was live (None: nothing was)."""
        if flow.live_version is None:
            return None
        return self._config(flow, flow.live_version, flow.live_config_hash)

    def _challenger_config(self, flow: Flow) -> str | None:
        if flow.rollout is None:
            raise SnapshotGone
        return self._config(flow, flow.rollout.challenger_version, flow.rollout.challenger_config_hash)

    def _config(self, flow: Flow, version: int, config_hash: str | None) -> str:
        config = version_config(self._flows, flow, version, config_hash)
        if config is None:
            raise SnapshotGone
        return config

    def _deleted(self, change: FlowDeleted) -> None:
        tombstone = change.tombstone
        for entry in deletion_entries(change.event_id, tombstone):
            self._history.record(entry)
        self._pointers.release_live(tombstone.tenant_id, tombstone.key, tombstone.flow_id, tombstone.row_version)
        if self._changes is not None:
            self._changes.cancel_open_changes(
                tombstone.tenant_id, tombstone.flow_id, tombstone.deleted_by, tombstone.deleted_at
            )
        self._flows.purge_deleted_flow(tombstone.tenant_id, tombstone.flow_id)


def _live_state(flow: Flow) -> tuple[object, ...]:
    """What a live entry depends on: edits of the name or the draft, or of a rollout plan's states (a
    suspension), leave it as it is."""
    rollout = flow.rollout.model_copy(update={"plan": None}) if flow.rollout is not None else None
    return flow.key, flow.status, flow.live_version, flow.live_config_hash, rollout
