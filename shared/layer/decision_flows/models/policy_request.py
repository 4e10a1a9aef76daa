"""The body of PUT /policy, apart from the change requests' (models.review_commands) so that
PolicyFunction defines no change-request model at init."""

from typing import Annotated

from pydantic import Field, Strict, StrictBool

from decision_flows.models.body_fields import Counter
from decision_flows.models.policy import MAX_REQUIRED_APPROVALS
from decision_flows.models.request_body import RequestBody


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
