"""The bodies of POST /rollout, /rollout/promote and /rollout/abort (RolloutFunction): the steps of a
staged rollout that POST /publish started; strict as every flow command (``draft_commands``)."""

from typing import Any, Self

from pydantic import ConfigDict, field_validator, model_validator

from decision_flows.models.body_fields import Counter, Notes, Percent, Subjects, refuse_null
from decision_flows.models.emergency import Emergency
from decision_flows.models.identifiers import FlowId
from decision_flows.models.request_body import RequestBody

# What POST /rollout may change; a field left out keeps its stored value.
ROLLOUT_SETTINGS = ("percent", "include", "exclude")


class RolloutRequest(RequestBody):
    """Change the challenger's share or overrides (a list sent replaces the stored one; one left out is
    kept); ``expectedCurrentVersion`` names the champion."""

    model_config = RequestBody.model_config | ConfigDict(
        json_schema_extra={"anyOf": [{"required": [setting]} for setting in ROLLOUT_SETTINGS]}
    )

    id: FlowId
    percent: Percent | None = None
    include: Subjects | None = None
    exclude: Subjects | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None

    @field_validator(*ROLLOUT_SETTINGS, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value, "leave the field out to keep its stored value")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set & set(ROLLOUT_SETTINGS):
            raise ValueError("send at least one of percent, include or exclude")
        return self


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
    emergency: Emergency | None = None
