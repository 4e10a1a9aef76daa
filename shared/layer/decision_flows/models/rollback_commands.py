"""The body of POST /rollback (RollbackFunction); strict as every flow command (``draft_commands``)."""

from typing import Annotated

from pydantic import Strict, StrictBool

from decision_flows.models.body_fields import Counter, Notes
from decision_flows.models.emergency import Emergency
from decision_flows.models.identifiers import VERSION_RANGE, FlowId
from decision_flows.models.request_body import RequestBody


class RollbackRequest(RequestBody):
    id: FlowId
    # Any integer of up to 18 digits: one that is no published version (0, -1) is 404 VERSION_NOT_FOUND.
    version: Annotated[int, Strict(), VERSION_RANGE]
    notes: Notes | None = None
    row_version: Counter | None = None
    expected_current_version: Counter | None = None
    dry_run: StrictBool = False
    emergency: Emergency | None = None
