"""A tenant's review policy: how many approvals a change to what /live serves needs, and whether the
emergency path is open. A tenant that never stored one has the defaults (``row_version`` 0)."""

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
