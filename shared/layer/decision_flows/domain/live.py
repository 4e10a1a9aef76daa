"""Live entries: which version runtime callers execute for a tenant's flow key, kept by the stream
consumer, and the configs of those versions, kept in memory.

A live entry is a small pointer cached from the source of truth (the flow). The consumer refreshes
it on every change that moves it; a read that misses rebuilds it from the truth. Writes are guarded
by the flow's rowVersion and by the flow still owning the key, so duplicated or reordered stream
records never move an entry backwards. Versions are immutable, so their configs, once read from
their snapshots, are kept for the life of the function instance: a hot key costs one small read
per request, whatever the size of its config.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from decision_flows.domain.errors import NotFound
from decision_flows.domain.ports import FlowStore, LivePointers, flow_with_key
from decision_flows.models.flow import Flow, FlowStatus
from decision_flows.models.identity import Identity
from decision_flows.models.live import LiveEntry

# What one instance keeps of version configs (Lambda's 512 MB leaves room for many 300 KB configs).
CONFIG_CACHE_BYTES = 64 * 1024 * 1024


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


@dataclass(frozen=True)
class Assignment:
    """The version a subject gets, and in which role."""

    version: int
    published_at: str
    role: Literal["champion", "challenger"]


def assign(entry: LiveEntry, subject: str | None) -> Assignment:
    """The contract's sticky assignment: during a rollout, subject S gets the challenger when it is in
    ``include``; else the champion when it is in ``exclude``; else the challenger when
    sha256("<flowId>:<challengerVersion>:<S>")'s first 8 bytes, as a big-endian integer, mod 10 000 are
    below the share in basis points. Without a subject, or without a rollout: the champion."""
    if entry.version is None or entry.published_at is None:
        raise ValueError("only a served entry is assigned")
    champion = Assignment(entry.version, entry.published_at, "champion")
    challenger, share, published = entry.challenger_version, entry.basis_points, entry.challenger_published_at
    if subject is None or challenger is None or share is None or published is None:
        return champion
    if subject in entry.include:
        return Assignment(challenger, published, "challenger")
    if subject in entry.exclude:
        return champion
    digest = hashlib.sha256(f"{entry.flow_id}:{challenger}:{subject}".encode()).digest()
    if int.from_bytes(digest[:8], "big") % 10_000 < share:
        return Assignment(challenger, published, "challenger")
    return champion


def etag_of(entry: LiveEntry, version: int) -> str:
    """The contract's ETag of a live answer: ``"<flowId>:<version>"``."""
    return f'"{entry.flow_id}:{version}"'


class ConfigCache:
    """Version configs by (tenant, flow, version), least recently used first out, within a byte budget."""

    def __init__(self, max_bytes: int = CONFIG_CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._configs: OrderedDict[tuple[str, str, int], str] = OrderedDict()
        self._sizes: dict[tuple[str, str, int], int] = {}

    def get(self, version: tuple[str, str, int]) -> str | None:
        config = self._configs.get(version)
        if config is not None:
            self._configs.move_to_end(version)
        return config

    def put(self, version: tuple[str, str, int], config: str) -> None:
        size = len(config.encode())  # bytes, not characters: a config may be mostly 4-byte characters
        if version in self._configs or size > self._max_bytes:
            return
        self._configs[version] = config
        self._sizes[version] = size
        self._bytes += size
        while self._bytes > self._max_bytes:
            dropped, _ = self._configs.popitem(last=False)
            self._bytes -= self._sizes.pop(dropped)


class LiveService:
    def __init__(self, pointers: LivePointers, flows: FlowStore, configs: ConfigCache | None = None) -> None:
        self._pointers = pointers
        self._flows = flows
        self._configs = configs or ConfigCache()

    def live(self, identity: Identity, key: str) -> LiveEntry:
        """The served entry of ``key``: one small read (a miss rebuilds it from the flow)."""
        entry = self._pointers.get_live(identity.tenant_id, key) or self._rebuild(identity.tenant_id, key)
        if entry is None or not entry.served or entry.version is None:
            raise NotFound("LIVE_FLOW_NOT_FOUND", f"No active, published flow has the key {key!r}.")
        return entry

    def config(self, entry: LiveEntry, number: int) -> str:
        """Version ``number``'s config: from memory, or once per instance and version from its snapshot."""
        version = (entry.tenant_id, entry.flow_id, number)
        config = self._configs.get(version)
        if config is None:
            snapshot = self._flows.get_version(*version)
            if snapshot is None or snapshot.config is None:  # deleted since the entry was read
                raise NotFound("LIVE_FLOW_NOT_FOUND", f"No active, published flow has the key {entry.key!r}.")
            config = snapshot.config
            self._configs.put(version, config)
        return config

    def _rebuild(self, tenant_id: str, key: str) -> LiveEntry | None:
        flow = flow_with_key(self._flows, tenant_id, key)
        if flow is None:  # unknown keys are not remembered: a caller could fill the cache with them
            return None
        entry = live_entry(flow, self._flows)
        if entry.served and entry.version is not None:
            self.config(entry, entry.version)  # read before the pointer is written: a failed read leaves no trace
        self._pointers.put_live(entry)
        return entry
