"""The body of POST /validate, apart from the flow commands (models.*_commands), which the compare
function never parses. As there, ``draftConfig`` is ``Any``: its checks are the pipeline validator's."""

from typing import Any, Self

from pydantic import model_validator

from decision_flows.models.identifiers import FlowId
from decision_flows.models.request_body import RequestBody


class ValidateRequest(RequestBody):
    """Exactly one of ``draftConfig`` (a config to check) or ``id`` (the flow whose stored draft to check)."""

    draft_config: Any = None
    id: FlowId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if len(self.model_fields_set & {"draft_config", "id"}) != 1:
            raise ValueError("send exactly one of draftConfig or id")
        if "id" in self.model_fields_set and self.id is None:
            raise ValueError("id may not be null")
        return self
