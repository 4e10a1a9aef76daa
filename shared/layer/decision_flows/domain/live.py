"""Live entries: what runtime callers execute for a tenant's flow key, kept by the stream consumer.

A live entry is a cache of the source of truth (the flow and its live snapshot). The consumer
refreshes it on every change that moves it; a read that misses rebuilds it from the truth. Writes
are guarded by the flow's rowVersion and by the flow still owning the key, so duplicated or
reordered stream records never move an entry backwards.
"""

from __future__ import annotations

from decision_flows.domain.errors import NotFound
from decision_flows.domain.store import FlowStore, LiveCache
from decision_flows.models.changes import LiveEntry
from decision_flows.models.flow import Flow, FlowStatus
from decision_flows.models.identity import Identity


def serves(flow: Flow) -> bool:
    return flow.status == FlowStatus.ACTIVE and flow.live_version is not None


def live_entry(flow: Flow, flows: FlowStore) -> LiveEntry:
    """The entry ``flow`` calls for. Its draft is the live config unless edited since the release;
    only then is the snapshot read."""
    entry = LiveEntry(
        tenant_id=flow.tenant_id, key=flow.key, flow_id=flow.id, row_version=flow.row_version, served=serves(flow)
    )
    if not entry.served or flow.live_version is None:
        return entry
    summary = next((s for s in reversed(flow.published_versions) if s.version == flow.live_version), None)
    config = flow.draft_config if flow.draft_hash == flow.live_config_hash else None
    if summary is None or config is None:
        snapshot = flows.get_version(flow.tenant_id, flow.id, flow.live_version)
        if snapshot is None:  # the flow was deleted meanwhile: serve nothing
            return entry.model_copy(update={"served": False})
        summary, config = snapshot, snapshot.config
    return entry.model_copy(
        update={"version": flow.live_version, "published_at": summary.published_at, "config": config}
    )


class LiveService:
    def __init__(self, cache: LiveCache, flows: FlowStore) -> None:
        self._cache = cache
        self._flows = flows

    def live(self, identity: Identity, key: str) -> LiveEntry:
        entry = self._cache.get_live(identity.tenant_id, key) or self._rebuild(identity.tenant_id, key)
        if entry is None or not entry.served:
            raise NotFound("LIVE_FLOW_NOT_FOUND", f"No active, published flow has the key {key!r}.")
        return entry

    def _rebuild(self, tenant_id: str, key: str) -> LiveEntry | None:
        flow_id = self._flows.key_owner(tenant_id, key)
        flow = self._flows.get_flow(tenant_id, flow_id) if flow_id else None
        if flow is None:  # unknown keys are not remembered: a caller could fill the cache with them
            return None
        entry = live_entry(flow, self._flows)
        self._cache.put_live(entry)
        return entry
