"""What one read of the flow store returns, and reads composed of two: built at runtime by the
access layer, unlike the ports (``domain.ports``), which are annotations only."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from decision_flows.models.flow import Flow, PublishedVersion

if TYPE_CHECKING:
    from decision_flows.domain.ports import FlowStore
    from decision_flows.models.policy import Policy


class FlowWithVersions(NamedTuple):
    """What one read of a flow and some of its versions found."""

    exists: bool
    flow: Flow | None = None  # only when asked for
    versions: Mapping[int, PublishedVersion] = MappingProxyType({})  # those that exist, with snapshots


class GatedFlow(NamedTuple):
    """What one read found for a call the tenant's review policy can refuse: the flow, the policy (its
    defaults when none is stored) and, when asked for, one version's snapshot."""

    flow: Flow | None
    policy: Policy
    version: PublishedVersion | None = None


def flow_with_key(flows: FlowStore, tenant_id: str, key: str) -> Flow | None:
    """The tenant's flow that holds ``key``: two reads, its reservation and then the flow. A key that
    left the flow between the two reads finds none, as a read a moment later would."""
    flow_id = flows.key_owner(tenant_id, key)
    flow = flows.get_flow(tenant_id, flow_id) if flow_id else None
    return flow if flow is not None and flow.key == key else None
