"""A tenant's review policy: how many approvals a change to what /live serves needs, and whether the
emergency path is open. A tenant that never stored one has the defaults (``row_version`` 0)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, StrictBool

from decision_flows.models.commands import Counter, RequestBody
from decision_flows.models.flow import StoredModel

MAX_REQUIRED_APPROVALS = 5
# The history entries of the policy are keyed by this in place of a flow id (never a flow's: those are df_…).
POLICY_HISTORY_ID = "policy"


class Policy(StoredModel):
    tenant_id: str
    required: int = 0
    allow_self_approval: bool = False
    emergency_enabled: bool = True
    row_version: int = 0  # 0: none stored, the defaults apply
    updated_at: str | None = None
    updated_by: str | None = None

    def settings(self) -> dict[str, object]:
        """What a change of the policy compares, under the names the contract gives them."""
        return {
            "approvals.required": self.required,
            "approvals.allowSelfApproval": self.allow_self_approval,
            "emergency.enabled": self.emergency_enabled,
        }


class ApprovalSettings(RequestBody):
    required: Annotated[int, Strict(), Field(ge=0, le=MAX_REQUIRED_APPROVALS)]
    allow_self_approval: StrictBool = False


class EmergencySettings(RequestBody):
    enabled: StrictBool = True


class PolicyRequest(RequestBody):
    """PUT /policy replaces the whole policy; ``rowVersion`` (or If-Match) guards it."""

    approvals: ApprovalSettings
    emergency: EmergencySettings = Field(default_factory=EmergencySettings)
    row_version: Counter | None = None
