"""The caller's identity, from the HTTP API Lambda-authorizer context, and the per-route role check."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from decision_flows.models.identity import Identity
from decision_flows.web.caller import TENANT_HEADER, caller_of, lower_cased, require_role

__all__ = ["TENANT_HEADER", "identify", "require_role"]


def identify(event: APIGatewayProxyEventV2) -> Identity:
    """Who is calling, as the authorizer established it (``web.caller``); 401 or 403 when it could not."""
    return caller_of(event.raw_event, lower_cased(event.raw_event.get("headers")))
