"""Successful responses: JSON bodies, and the ETag every single-flow response carries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from decision_flows.web.views.body import ResponseBody

if TYPE_CHECKING:  # annotations: the read functions do not load the flow service, nor all of them the flow views
    from decision_flows.domain.service import Preview
    from decision_flows.models.flow import Flow

JSON = "application/json"


def json_response(
    status: int, body: ResponseBody | dict[str, Any], headers: dict[str, str] | None = None
) -> Response[str]:
    payload = body.to_json_dict() if isinstance(body, ResponseBody) else body
    return Response(status, JSON, json.dumps(payload, ensure_ascii=False), headers or {})


def etag(flow: Flow) -> str:
    return f'"{flow.row_version}"'


def flow_response(
    flow: Flow, status: int = 200, headers: dict[str, str] | None = None, *, with_config: bool = True
) -> Response[str]:
    """One flow, with its ETag; ``with_config=False`` leaves ``draftConfig`` out (a write that never
    changes the draft need not send it back, nor keep it for a replay)."""
    from decision_flows.web.views.flows import FlowView

    view = FlowView.of(flow, with_config=with_config)
    return json_response(status, view, {"ETag": etag(flow), **(headers or {})})


def dry_run_response(preview: Preview) -> Response[str]:
    """A dry run's answer; no ETag, since the flow it shows was not written."""
    from decision_flows.web.views.compare import DiffView, ProblemView
    from decision_flows.web.views.dry_run import DryRunView
    from decision_flows.web.views.flows import FlowView

    return json_response(
        200,
        DryRunView(
            flow=FlowView.of(preview.flow),
            diff=DiffView.of(preview.diff),
            warnings=[ProblemView.of(warning) for warning in preview.warnings],
        ),
    )
