"""The tenant's review policy: read it, replace it at its rowVersion, and say whether a call needs review.

The rule for a policy change racing a direct call: a direct call is judged by the policy as one
strongly consistent read found it at the call's start. A policy written after that read governs the
calls that start after it; one already past its check lands, as it would had it come a moment earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from decision_flows.domain import flow_rules as rules
from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.errors import Conflict, row_version_mismatch
from decision_flows.models.identity import Identity
from decision_flows.models.policy import Policy
from decision_flows.models.policy_request import PolicyRequest

if TYPE_CHECKING:
    from decision_flows.domain.ports import PolicyStore


class PolicyService:
    def __init__(self, store: PolicyStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def get(self, identity: Identity) -> Policy:
        return self._store.get_policy(identity.tenant_id)

    def put(self, identity: Identity, request: PolicyRequest, if_match: int | None) -> Policy:
        """A policy equal to the stored one writes nothing (as PUT of a flow), so it leaves no entry."""
        expected = rules.expected_row_version(request.row_version, if_match)
        stored = self._store.get_policy(identity.tenant_id)
        if expected is not None and expected != stored.row_version:
            raise row_version_mismatch(expected, stored.row_version)
        new = Policy(
            tenant_id=identity.tenant_id,
            required=request.approvals.required,
            allow_self_approval=request.approvals.allow_self_approval,
            emergency_enabled=request.emergency.enabled,
            row_version=stored.row_version + 1,
            updated_at=timestamp(self._clock()),
            updated_by=identity.principal,
        )
        if stored.row_version and new.settings() == stored.settings():
            return stored
        self._store.save_policy(stored, new)
        return new


def approval_required(policy: Policy, call: str) -> None:
    """409 APPROVAL_REQUIRED when the tenant's policy puts ``call`` under review."""
    if policy.required >= 1:
        raise Conflict(
            "APPROVAL_REQUIRED",
            f"This tenant's policy requires {policy.required} approval(s) for {call}: "
            "request it with POST /api/v1/decision-flows/changes and apply it once approved.",
        )
