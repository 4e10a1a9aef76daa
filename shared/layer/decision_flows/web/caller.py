"""Who is calling, read from an HTTP API (payload 2.0) event as a plain dict: the identity the
authorizer put into the request context, checked against the X-Tenant-Id header. Standard library
only, so that the runtime read path (functions/live) identifies callers without pydantic or
Powertools; ``web.identity`` builds the management routes' ``Identity`` from the same reading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from decision_flows.domain.errors import Forbidden, InvalidRequest, Unauthenticated
from decision_flows.models.identity import Identity, Role
from decision_flows.web.auth_refusals import refusal, tenant_mismatch

TENANT_HEADER = "x-tenant-id"


class HasRole(Protocol):
    @property
    def role(self) -> Role: ...


def lower_cased(headers: Mapping[str, str] | None) -> dict[str, str]:
    """API Gateway hands HTTP API headers over lower-cased; a hand-made event may not."""
    return {name.lower(): value for name, value in (headers or {}).items()}


def caller_of(event: Mapping[str, Any], headers: Mapping[str, str]) -> Identity:
    """The caller as the authorizer established it; 401 or 403 when it could not, 400 without the
    tenant header. ``headers``: the request's, lower-cased.

    The authorizer lets refused requests through with an ``authError`` instead of denying them,
    so that they get the contract's 401/403 problem details rather than API Gateway's bare 403.
    """
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    context: Mapping[str, Any] = authorizer.get("lambda") or {}
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
    tenant_header = headers.get(TENANT_HEADER)
    if not tenant_header:
        raise InvalidRequest("TENANT_HEADER_MISSING", "The X-Tenant-Id header is required.")
    if tenant_header != identity.tenant_id:
        raise tenant_mismatch()
    return identity


def require_role(caller: HasRole, minimum: Role) -> None:
    if caller.role < minimum:
        raise Forbidden(
            "INSUFFICIENT_ROLE",
            f"This route needs the {minimum.name.lower()} role; the credential has {caller.role.name.lower()}.",
        )
