"""The caller's identity, from the HTTP API Lambda-authorizer context, and the per-route role check."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError

from decision_flows.domain.errors import Forbidden, InvalidRequest, Unauthenticated, store_busy_at_authentication
from decision_flows.models.identity import Identity, Role

TENANT_HEADER = "x-tenant-id"
# template.yaml's ReauthorizeEvery: how long API Gateway keeps an authorizer's answer (a test holds
# the two equal).
AUTHORIZER_CACHE_SECONDS = 60
# The clock the cached decision's age is read with; tests set it.
clock: Callable[[], float] = time.time


def authorize(event: APIGatewayProxyEventV2, minimum: Role) -> Identity:
    """The identity of the request, if it may use a route whose minimum role is ``minimum``."""
    identity = identify(event)
    require_role(identity, minimum)
    return identity


def identify(event: APIGatewayProxyEventV2) -> Identity:
    """Who is calling, as the authorizer established it; 401 or 403 when it could not.

    The authorizer lets refused requests through with an ``authError`` instead of denying them,
    so that they get the contract's 401/403 problem details rather than API Gateway's bare 403.
    """
    context = event.request_context.authorizer.get_lambda
    if context.get("authError") == "STORE_BUSY":
        raise store_busy_at_authentication(_until_decision_expires(context.get("decidedAt")))
    if context.get("authError") == "TENANT_MISMATCH":
        raise Forbidden("TENANT_MISMATCH", "The credential does not belong to the tenant in X-Tenant-Id.")
    if context.get("authError"):
        raise Unauthenticated("UNAUTHENTICATED", "The credential is missing, unknown, revoked or expired.")
    try:
        identity = Identity(
            tenant_id=context.get("tenantId", ""),
            role=Role.parse(str(context.get("role", ""))),
            principal=context.get("principal", ""),
        )
    except (KeyError, ValidationError):
        raise Unauthenticated("UNAUTHENTICATED", "The request carries no valid identity.") from None
    tenant_header = event.headers.get(TENANT_HEADER)
    if not tenant_header:
        raise InvalidRequest("TENANT_HEADER_MISSING", "The X-Tenant-Id header is required.")
    if tenant_header != identity.tenant_id:
        raise Forbidden("TENANT_MISMATCH", "The credential does not belong to the tenant in X-Tenant-Id.")
    return identity


def _until_decision_expires(decided_at: object) -> int:
    """Seconds until API Gateway asks the authorizer again: retrying sooner meets the cached refusal."""
    try:
        remaining = int(str(decided_at)) + AUTHORIZER_CACHE_SECONDS - clock()
    except ValueError:
        remaining = AUTHORIZER_CACHE_SECONDS
    return max(1, min(AUTHORIZER_CACHE_SECONDS, math.ceil(remaining)))


def require_role(identity: Identity, minimum: Role) -> None:
    if identity.role < minimum:
        raise Forbidden(
            "INSUFFICIENT_ROLE",
            f"This route needs the {minimum.name.lower()} role; the credential has {identity.role.name.lower()}.",
        )
