"""The runtime read path (/live and /live/state): a key's live pointer, the version a subject gets,
and the versions' configs, with the standard library only (no pydantic: this path's cold start).

A request costs one small read, the key's pointer; configs, immutable per version, are read once per
instance and kept in memory. It writes nothing, but for the rare miss: a pointer the stream consumer
has not written yet is rebuilt from the flow and kept by ``rebuild`` (domain.live, which loads the
flow service's models on first use), once per key, so that the consumer's older records cannot walk
what callers saw backwards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from decision_flows.domain.assignment import Split, gets_challenger
from decision_flows.domain.byte_cache import ByteBoundedCache
from decision_flows.domain.errors import NotFound

ServedRole = Literal["champion", "challenger"]


@dataclass(frozen=True, slots=True)
class PublishedRef:
    """A published version as the runtime path names it."""

    version: int
    published_at: str


@dataclass(frozen=True, slots=True)
class LivePointer:
    """What runtime callers of one tenant's key get: the champion and, during a staged rollout, the
    challenger with its share (basis points) and overrides. ``champion`` is None when the key serves
    nothing (its flow is not active, or was never published)."""

    tenant_id: str
    key: str
    flow_id: str
    champion: PublishedRef | None
    challenger: PublishedRef | None = None
    basis_points: int = 0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def split(self) -> Split | None:
        if self.challenger is None:
            return None
        return Split(
            self.flow_id, self.challenger.version, self.basis_points, frozenset(self.include), frozenset(self.exclude)
        )


@dataclass(frozen=True, slots=True)
class Served:
    """The version a subject gets, and in which role."""

    ref: PublishedRef
    role: ServedRole


class PointerReader(Protocol):
    def get_pointer(self, tenant_id: str, key: str) -> LivePointer | None: ...

    def get_config(self, tenant_id: str, flow_id: str, version: int) -> str | None: ...


# A missing pointer rebuilt from the flow and kept: (tenant, key) -> the pointer and the configs of the
# versions it serves (read before it was kept), None when no flow has the key.
Rebuild = Callable[[str, str], tuple[LivePointer, dict[int, str]] | None]


def not_served(key: str) -> NotFound:
    return NotFound("LIVE_FLOW_NOT_FOUND", f"No active, published flow has the key {key!r}.")


def assign(pointer: LivePointer, subject: str | None) -> Served:
    """The contract's assignment (domain.assignment) of ``subject`` on a served pointer."""
    if pointer.champion is None:
        raise ValueError("only a served pointer is assigned")
    if pointer.challenger is not None and gets_challenger(pointer.split(), subject):
        return Served(pointer.challenger, "challenger")
    return Served(pointer.champion, "champion")


def live_etag(pointer: LivePointer, served: Served) -> str:
    """The contract's ETag of a /live answer: ``"<flowId>:<version>"``."""
    return f'"{pointer.flow_id}:{served.ref.version}"'


def state_etag(pointer: LivePointer) -> str:
    """The ETag of a /live/state answer: ``"<flowId>:<champion>:<challenger or ->:<basis points>:<h>"``,
    h being the first 16 hex digits of sha256 over the overrides as stored (JSON of [include, exclude]).
    Versions are immutable, so these say everything the answer holds."""
    if pointer.champion is None:
        raise ValueError("only a served pointer has a state")
    challenger = str(pointer.challenger.version) if pointer.challenger else "-"
    overrides = json.dumps([pointer.include, pointer.exclude], separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(overrides.encode()).hexdigest()[:16]
    return f'"{pointer.flow_id}:{pointer.champion.version}:{challenger}:{pointer.basis_points}:{digest}"'


class RuntimeReads:
    def __init__(
        self, reader: PointerReader, rebuild: Rebuild, configs: ByteBoundedCache[tuple[str, str, int]]
    ) -> None:
        self._reader = reader
        self._rebuild = rebuild
        self._configs = configs

    def pointer(self, tenant_id: str, key: str) -> LivePointer:
        """The served pointer of ``key``: one small read (a miss rebuilds it from the flow)."""
        pointer = self._reader.get_pointer(tenant_id, key)
        if pointer is None and (rebuilt := self._rebuild(tenant_id, key)) is not None:
            pointer, configs = rebuilt
            for version, config in configs.items():
                self._configs.put((tenant_id, pointer.flow_id, version), config)
        if pointer is None or pointer.champion is None:
            raise not_served(key)
        return pointer

    def config(self, pointer: LivePointer, version: int) -> str:
        """Version ``version``'s config (canonical JSON): from memory, or once per instance from its snapshot."""
        cached = (pointer.tenant_id, pointer.flow_id, version)
        config = self._configs.get(cached)
        if config is None:
            config = self._reader.get_config(*cached)
            if config is None:  # the flow was deleted since its pointer was read
                raise not_served(pointer.key)
            self._configs.put(cached, config)
        return config
