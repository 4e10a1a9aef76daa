"""The bodies of POST and PUT /decision-flows: create a flow, edit it and its draft (DraftsFunction).

The flow commands are split by the function that parses them (``publish_commands``,
``rollback_commands``, ``rollout_commands``), so that each function's init defines its own bodies
only. All of them take the contract's field names exactly, with strict scalars: ``"3"`` is not a
version and ``"true"`` is not a boolean (enums still take their JSON string values). Unknown and
server-owned fields are refused (``extra="forbid"``), so nothing a client sends can set ``tenantId``,
``liveVersion`` or the like. ``draftConfig`` is ``Any`` here on purpose: its checks are the pipeline
validator's, which reports 422 with every problem rather than a type error.
"""

from typing import Annotated, Any

from pydantic import Strict, StrictBool, StringConstraints

from decision_flows.models.body_fields import Counter, Description
from decision_flows.models.flow import FlowStatus
from decision_flows.models.identifiers import FlowId, FlowKey
from decision_flows.models.request_body import RequestBody

FlowName = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=255)]


class CreateFlowRequest(RequestBody):
    key: FlowKey
    name: FlowName
    description: Description | None = None
    status: FlowStatus = FlowStatus.DRAFT
    auto_assembly: StrictBool = True
    draft_config: Any = None


# An update may leave these fields out but not send them as null (400): only a description clears.
NOT_NULLABLE_ON_UPDATE = ("key", "name", "status", "auto_assembly", "draft_config")


class UpdateFlowRequest(RequestBody):
    """Only the fields present are changed; ``"description": null`` clears the description (the others
    refuse null: 400 VALIDATION_ERROR)."""

    id: FlowId
    key: FlowKey | None = None
    name: FlowName | None = None
    description: Description | None = None
    status: FlowStatus | None = None
    auto_assembly: StrictBool | None = None
    draft_config: Any = None
    row_version: Counter | None = None
