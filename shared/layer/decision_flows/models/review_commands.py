"""Request bodies of the review routes (/policy, /changes), apart from the stored models so that the
functions that only read policies or change requests (the stream consumer) build no request models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, Strict, StrictBool, StringConstraints

from decision_flows.models.change import ChangeAction, ChangeId
from decision_flows.models.commands import Counter, Description, Notes
from decision_flows.models.identifiers import FlowId
from decision_flows.models.policy import MAX_REQUIRED_APPROVALS
from decision_flows.models.request_body import RequestBody

ContentHash = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=80)]
Title = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=200)]


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


class NewChangeRequest(RequestBody):
    flow_id: FlowId
    action: ChangeAction
    params: dict[str, Any] = Field(default_factory=dict)
    title: Title | None = None
    description: Description | None = None


class ApproveRequest(RequestBody):
    change_id: ChangeId
    content_hash: ContentHash
    comment: Notes | None = None


class RejectRequest(RequestBody):
    change_id: ChangeId
    comment: Notes


class ChangeIdRequest(RequestBody):
    change_id: ChangeId
