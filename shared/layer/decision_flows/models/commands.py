"""Request bodies of the flow commands, exactly as the contract names their fields (POST /validate's
is models.validation's: the compare function parses no command).

Strict scalars: ``"3"`` is not a version and ``"true"`` is not a boolean (enums still take their
JSON string values). Unknown and server-owned
fields are refused (``extra="forbid"``), so nothing a client sends can set ``tenantId``,
``liveVersion`` or the like. ``draftConfig`` is ``Any`` here on purpose: its checks are the
pipeline validator's, which reports 422 with every problem rather than a type error.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, PlainValidator, Strict, StrictBool, StringConstraints, WithJsonSchema

from decision_flows.models.flow import FlowStatus
from decision_flows.models.identifiers import VERSION_RANGE, FlowId, FlowKey
from decision_flows.models.request_body import RequestBody

FlowName = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=255)]
# Characters may take 4 bytes each: these caps keep a flow item (300 KB draft, 20 summaries with
# notes) well under DynamoDB's 400 KB item limit.
Description = Annotated[str, Strict(), StringConstraints(max_length=1000)]
Notes = Annotated[str, Strict(), StringConstraints(max_length=500)]
Counter = Annotated[int, Strict(), Field(ge=1)]


def _share(value: Any) -> float:
    """A JSON number strictly between 0 and 100 with at most two decimals (not a string, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a number")
    # An int is taken exactly: JSON integers have no size limit, and one past 1e308 has no float.
    exact = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if not 0 < exact < 100 or exact != exact.quantize(Decimal("0.01")):
        raise ValueError("must be more than 0 and less than 100, with at most two decimals")
    return float(value)


# A challenger's share of subjects, in percent; stored as basis points (round(percent * 100)).
Percent = Annotated[
    float,
    PlainValidator(_share),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100, "multipleOf": 0.01}),
]


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


class RolloutShare(RequestBody):
    percent: Percent


class PublishRequest(RequestBody):
    """With ``rollout``, the new version is published as the challenger of a staged rollout."""

    id: FlowId
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
    rollout: RolloutShare | None = None
    dry_run: StrictBool = False


class RollbackRequest(RequestBody):
    id: FlowId
    # Any integer of up to 18 digits: one that is no published version (0, -1) is 404 VERSION_NOT_FOUND.
    version: Annotated[int, Strict(), VERSION_RANGE]
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
    dry_run: StrictBool = False


class RolloutRequest(RequestBody):
    """Change the challenger's share; ``expectedCurrentVersion`` names the champion."""

    id: FlowId
    percent: Percent
    row_version: Counter | None = None
    expected_current_version: Counter | None = None


class PromoteRequest(RequestBody):
    id: FlowId
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None


class AbortRequest(RequestBody):
    id: FlowId
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
