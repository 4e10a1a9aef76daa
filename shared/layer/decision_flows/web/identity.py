"""The caller's identity, from the HTTP API Lambda-authorizer context, and the per-route role check."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from decision_flows.domain.errors import Forbidden, InvalidRequest, Unauthenticated
from decision_flows.models.identity import Identity, Role
from decision_flows.web.auth_refusals import refusal, tenant_mismatch

TENANT_HEADER = "x-tenant-id"


def identify(event: APIGatewayProxyEventV2) -> Identity:
    """Who is calling, as the authorizer established it; 401 or 403 when it could not.

    The authorizer lets refused requests through with an ``authError`` instead of denying them,
    so that they get the contract's 401/403 problem details rather than API Gateway's bare 403.
    """
    context = event.request_context.authorizer.get_lambda
    if auth_error := context.get("authError"):
        raise refusal(str(auth_error), context.get("decidedAt"))
    try:
        identity = Identity(
            tenant_id=context.get("tenantId", ""),
            role=Role.parse(str(context.get("role", ""))),
            principal=context.get("principal", ""),
        )
    except (KeyError, ValueError):
        raise Unauthenticated("UNAUTHENTICATED", "The request carries no valid identity.") from None
    tenant_header = event.headers.get(TENANT_HEADER)
    if not tenant_header:
        raise InvalidRequest("TENANT_HEADER_MISSING", "The X-Tenant-Id header is required.")
    if tenant_header != identity.tenant_id:
        raise tenant_mismatch()
    return identity


def require_role(identity: Identity, minimum: Role) -> None:
    if identity.role < minimum:
        raise Forbidden(
            "INSUFFICIENT_ROLE",
            f"This route needs the {minimum.name.lower()} role; the credential has {identity.role.name.lower()}.",
        )
