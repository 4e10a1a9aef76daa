"""Live entries: which version runtime callers execute for a tenant's flow key, kept by the stream
consumer.

A live entry is a small pointer cached from the source of truth (the flow). The consumer refreshes
it on every change that moves it; a runtime read that misses rebuilds it from the truth and keeps it
(domain.runtime_reads serves it). Writes are guarded by the flow's rowVersion and by the flow still
owning the key, so duplicated or reordered stream records never move an entry backwards: nor do
they after a miss has written a newer state than the consumer has reached, which is why a miss
writes (once per key) rather than serving the newer state and leaving the consumer to walk it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decision_flows.domain.reads import flow_with_key
from decision_flows.models.flow import Flow, FlowStatus
from decision_flows.models.live import LiveEntry

if TYPE_CHECKING:
    from decision_flows.domain.ports import FlowStore, LivePointers


def serves(flow: Flow) -> bool:
    return flow.status == FlowStatus.ACTIVE and flow.live_version is not None


def live_entry(flow: Flow, flows: FlowStore) -> LiveEntry:
    """The pointer ``flow`` calls for. The live version is among the flow's recent summaries (it is
    the latest); only otherwise is its snapshot read, for the publication time."""
    entry = LiveEntry(
        tenant_id=flow.tenant_id, key=flow.key, flow_id=flow.id, row_version=flow.row_version, served=serves(flow)
    )
    if not entry.served or flow.live_version is None:
        return entry
    published = _published_at(flow, flow.live_version, flows)
    if published is None:  # the flow was deleted meanwhile: serve nothing
        return entry.model_copy(update={"served": False})
    entry = entry.model_copy(update={"version": flow.live_version, "published_at": published})
    rollout = flow.rollout
    if rollout is None:
        return entry
    challenger_published = _published_at(flow, rollout.challenger_version, flows)
    if challenger_published is None:
        return entry.model_copy(update={"served": False})
    return entry.model_copy(
        update={
            "challenger_version": rollout.challenger_version,
            "challenger_published_at": challenger_published,
            "basis_points": rollout.basis_points,
            "include": rollout.include,
            "exclude": rollout.exclude,
        }
    )


def version_config(flows: FlowStore, flow: Flow, version: int, config_hash: str | None) -> str | None:
    """A published version's config: the flow's draft while it still equals it (no read), else the
    version's snapshot; None once that is gone (the flow was deleted since it was read)."""
    if flow.draft_hash == config_hash:
        return flow.draft_config
    snapshot = flows.get_version(flow.tenant_id, flow.id, version)
    return snapshot.config if snapshot is not None else None


def _published_at(flow: Flow, version: int, flows: FlowStore) -> str | None:
    """When ``version`` was published: from the flow's recent summaries (live and challenger are among
    them), else from its snapshot; None once the flow is gone."""
    summary = next((s for s in reversed(flow.published_versions) if s.version == version), None)
    if summary is None:
        summary = flows.get_version(flow.tenant_id, flow.id, version)
    return summary.published_at if summary else None


class LiveService:
    def __init__(self, pointers: LivePointers, flows: FlowStore) -> None:
        self._pointers = pointers
        self._flows = flows

    def rebuild(self, tenant_id: str, key: str) -> tuple[LiveEntry, dict[int, str]] | None:
        """The entry of a key the consumer has not written yet, from the flow that holds it, kept in the
        live table, with the configs of the versions it serves; None when no flow holds the key
        (unknown keys are not remembered: a caller could fill the table with them)."""
        flow = flow_with_key(self._flows, tenant_id, key)
        if flow is None:
            return None
        entry = live_entry(flow, self._flows)
        served = [entry.version, entry.challenger_version] if entry.served else []
        configs: dict[int, str] = {}
        # Read before the pointer is written: a store that fails, or a flow deleted meanwhile, leaves no trace.
        for version in (number for number in served if number is not None):
            snapshot = self._flows.get_version(tenant_id, flow.id, version)
            if snapshot is None or snapshot.config is None:
                return None
            configs[version] = snapshot.config
        self._pointers.put_live(entry)
        return entry, configs
