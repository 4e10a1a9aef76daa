"""Response body of GET and PUT /policy."""

from typing import Self

from decision_flows.models.policy import Policy
from decision_flows.web.views.body import NullableTimestamp, ResponseBody


class ApprovalsView(ResponseBody):
    required: int
    allow_self_approval: bool


class EmergencyView(ResponseBody):
    enabled: bool


class PolicyView(ResponseBody):
    """``rowVersion`` 0, ``updatedAt`` and ``updatedBy`` null: none stored yet, the defaults apply."""

    approvals: ApprovalsView
    emergency: EmergencyView
    row_version: int
    updated_at: NullableTimestamp
    updated_by: str | None

    @classmethod
    def of(cls, policy: Policy) -> Self:
        return cls(
            approvals=ApprovalsView(required=policy.required, allow_self_approval=policy.allow_self_approval),
            emergency=EmergencyView(enabled=policy.emergency_enabled),
            row_version=policy.row_version,
            updated_at=policy.updated_at,
            updated_by=policy.updated_by,
        )
