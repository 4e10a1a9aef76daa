"""FlowStore in memory: the access layer's promises without DynamoDB, for FlowService's rules.

Each write is all or nothing and guarded as the DynamoDB access layer guards it: the stored flow
must still have the previous rowVersion (409 ROW_VERSION_MISMATCH, 404 once it is gone), a key is
one flow's per tenant (409 KEY_TAKEN), versions are written once, a cursor is good only for the
tenant and list that handed it out (400 INVALID_CURSOR). tests/integration/test_store_guarantees.py
holds this fake and the real access layer on moto to the same promises, so it cannot drift; it lets
the domain's rules run in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from decision_flows.dal import cursor
from decision_flows.dal.key_schema import STATUS_RANK
from decision_flows.domain.errors import Conflict, flow_not_found, key_taken, row_version_mismatch
from decision_flows.domain.reads import FlowWithVersions, GatedFlow
from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion
from decision_flows.models.page import Page
from decision_flows.models.policy import Policy

FlowKey = tuple[str, str]  # tenant, flow id
_CURSOR_KEYS = frozenset({"PK", "SK"})


class InMemoryFlowStore:
    def __init__(self) -> None:
        self.flows: dict[FlowKey, Flow] = {}
        self.keys: dict[tuple[str, str], str] = {}  # (tenant, key) -> flow id
        self.versions: dict[FlowKey, dict[int, PublishedVersion]] = {}
        self.policies: dict[str, Policy] = {}  # tenant -> its review policy (absent: the defaults)
        self.reads: list[str] = []  # the reads made, by method name: the round trips the domain costs
        # (deleted by, deleted at) of each flow deleted: what the access layer's tombstone keeps for the
        # delete's history entry
        self.tombstones: dict[FlowKey, tuple[str, str]] = {}
        self._racer: Callable[[], object] | None = None

    def overtake_next_read(self, write: Callable[[], object]) -> None:
        """Run ``write`` just after the next read of a flow: another writer, between a read and its write."""
        self._racer = write

    # Reads

    def get_flow(self, tenant_id: str, flow_id: str) -> Flow | None:
        self.reads.append("get_flow")
        return self._flow(tenant_id, flow_id)

    def _flow(self, tenant_id: str, flow_id: str) -> Flow | None:
        flow = self.flows.get((tenant_id, flow_id))
        if self._racer is not None:
            racer, self._racer = self._racer, None
            racer()
        return flow

    def get_flow_and_version(
        self, tenant_id: str, flow_id: str, version: int
    ) -> tuple[Flow | None, PublishedVersion | None]:
        self.reads.append("get_flow_and_version")
        return self._flow(tenant_id, flow_id), self._version(tenant_id, flow_id, version)

    def get_gated_flow(self, tenant_id: str, flow_id: str, version: int | None = None) -> GatedFlow:
        self.reads.append("get_gated_flow")
        return GatedFlow(
            flow=self._flow(tenant_id, flow_id),
            policy=self.policies.get(tenant_id, Policy(tenant_id=tenant_id)),
            version=None if version is None else self._version(tenant_id, flow_id, version),
        )

    def get_version(self, tenant_id: str, flow_id: str, version: int) -> PublishedVersion | None:
        self.reads.append("get_version")
        return self._version(tenant_id, flow_id, version)

    def _version(self, tenant_id: str, flow_id: str, version: int) -> PublishedVersion | None:
        return self.versions.get((tenant_id, flow_id), {}).get(version)

    def get_flow_with_versions(
        self, tenant_id: str, flow_id: str, versions: Sequence[int], with_flow: bool
    ) -> FlowWithVersions:
        self.reads.append("get_flow_with_versions")
        flow = self._flow(tenant_id, flow_id)
        if flow is None:
            return FlowWithVersions(exists=False)
        stored = self.versions.get((tenant_id, flow_id), {})
        wanted = {version: stored[version] for version in versions if version in stored}
        return FlowWithVersions(exists=True, flow=flow if with_flow else None, versions=wanted)

    def flow_exists(self, tenant_id: str, flow_id: str) -> bool:
        return (tenant_id, flow_id) in self.flows

    def list_versions(
        self, tenant_id: str, flow_id: str, limit: int, page_cursor: str | None
    ) -> Page[PublishedVersion] | None:
        after = _position(page_cursor, f"{tenant_id}#{flow_id}")  # a foreign cursor is 400 before any read
        if not self.flow_exists(tenant_id, flow_id):
            return None
        found = [v.model_copy(update={"config": None}) for _, v in sorted(self.versions[(tenant_id, flow_id)].items())]
        page = [version for version in found if version.version > after]
        more = len(page) > limit
        next_cursor = _cursor(f"{tenant_id}#{flow_id}", page[limit - 1].version) if more else None
        return Page(items=page[:limit], next_cursor=next_cursor)

    def list_flows(self, tenant_id: str, status: FlowStatus | None, limit: int, page_cursor: str | None) -> Page[Flow]:
        mine = [flow for (tenant, _), flow in self.flows.items() if tenant == tenant_id]
        wanted = sorted(
            (flow for flow in mine if status in (None, flow.status)),
            key=lambda flow: (STATUS_RANK[flow.status], -_epoch(flow.updated_at), flow.id),
        )
        scope = f"{tenant_id}#{status or ''}"
        start = _position(page_cursor, scope)
        page = wanted[start : start + limit]
        more = start + limit < len(wanted)
        drafts_left_out = [flow.model_copy(update={"draft_config": None}) for flow in page]
        next_cursor = _cursor(scope, start + limit) if more else None
        return Page(items=drafts_left_out, next_cursor=next_cursor, total=len(wanted))

    def key_owner(self, tenant_id: str, key: str) -> str | None:
        return self.keys.get((tenant_id, key))

    # Writes

    def create_flow(self, flow: Flow) -> None:
        if (flow.tenant_id, flow.id) in self.flows:
            raise Conflict("FLOW_EXISTS", "Flow id collision.")
        self._claim_key(flow)
        self.flows[(flow.tenant_id, flow.id)] = flow
        self.versions[(flow.tenant_id, flow.id)] = {}

    def save_flow(self, previous: Flow, new: Flow) -> None:
        self._check(previous)
        if new.key != previous.key:
            self._claim_key(new)
            del self.keys[(previous.tenant_id, previous.key)]
        self.flows[(new.tenant_id, new.id)] = new

    def publish_version(self, previous: Flow, new: Flow, version: PublishedVersion) -> None:
        self._check(previous)
        versions = self.versions[(new.tenant_id, new.id)]
        if version.version in versions:
            raise row_version_mismatch(previous.row_version)
        versions[version.version] = version
        self.flows[(new.tenant_id, new.id)] = new

    def delete_flow(self, previous: Flow, deleted_by: str, deleted_at: str) -> None:
        self._check(previous)
        del self.flows[(previous.tenant_id, previous.id)]
        del self.keys[(previous.tenant_id, previous.key)]
        del self.versions[(previous.tenant_id, previous.id)]  # unreachable at once, as behind the anchor
        self.tombstones[(previous.tenant_id, previous.id)] = (deleted_by, deleted_at)

    def purge_deleted_flow(self, tenant_id: str, flow_id: str) -> None:
        """Nothing is left to remove: the versions went with the flow."""

    # Guards

    def _check(self, previous: Flow) -> None:
        stored = self.flows.get((previous.tenant_id, previous.id))
        if stored is None:
            raise flow_not_found(previous.id)
        if stored.row_version != previous.row_version:
            raise row_version_mismatch(previous.row_version, stored.row_version)

    def _claim_key(self, flow: Flow) -> None:
        if self.keys.get((flow.tenant_id, flow.key), flow.id) != flow.id:
            raise key_taken(flow.key)
        self.keys[(flow.tenant_id, flow.key)] = flow.id


def _cursor(scope: str, position: int) -> str:
    """Opaque like the access layer's cursors, and as bound to the tenant and list it came from."""
    return cursor.encode({"PK": scope, "SK": str(position)})


def _position(page_cursor: str | None, scope: str) -> int:
    """Where a cursor starts, or 400 INVALID_CURSOR for one this list did not hand out."""
    if page_cursor is None:
        return 0
    start = cursor.decode(page_cursor, lambda key: key["PK"] == scope and key["SK"].isdigit(), _CURSOR_KEYS)
    return int(start["SK"]["S"])


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp).timestamp()
