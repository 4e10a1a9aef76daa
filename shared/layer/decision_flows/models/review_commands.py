"""Request bodies of /changes, apart from the stored models so that the functions that only read
change requests (the stream consumer) build no request models (PUT /policy's: models.policy_request)."""

from typing import Annotated, Any

from pydantic import Field, Strict, StringConstraints

from decision_flows.models.body_fields import Description, Notes
from decision_flows.models.change_terms import ChangeAction, ChangeId, RunAt
from decision_flows.models.identifiers import FlowId
from decision_flows.models.request_body import RequestBody

ContentHash = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=80)]
Title = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=200)]


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


class ScheduleRequest(RequestBody):
    change_id: ChangeId
    run_at: RunAt
