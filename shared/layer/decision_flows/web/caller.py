"""Who is calling, read from an HTTP API (payload 2.0) event as a plain dict: the identity the
authorizer put into the request context, checked against the X-Tenant-Id header. Standard library
only, so that the runtime read path (functions/live) identifies callers without pydantic or
Powertools; ``web.identity`` builds the management routes' ``Identity`` from the same reading."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from decision_flows.domain.errors import Forbidden, InvalidRequest, Unauthenticated
from decision_flows.models.role import Role
from decision_flows.web.auth_refusals import refusal, tenant_mismatch

TENANT_HEADER = "x-tenant-id"
# Tenant ids become part of DynamoDB keys, so "#" (the key separator) may never appear in one.
TENANT_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
MAX_PRINCIPAL_LENGTH = 256


class HasRole(Protocol):
    @property
    def role(self) -> Role: ...


@dataclass(frozen=True, slots=True)
class Caller:
    tenant_id: str
    role: Role
    principal: str


def lower_cased(headers: Mapping[str, str] | None) -> dict[str, str]:
    """API Gateway hands HTTP API headers over lower-cased; a hand-made event may not."""
    return {name.lower(): value for name, value in (headers or {}).items()}


def caller_of(event: Mapping[str, Any], headers: Mapping[str, str]) -> Caller:
    """The caller as the authorizer established it; 401 or 403 when it could not, 400 without the
    tenant header. ``headers``: the request's, lower-cased.

    The authorizer lets refused requests through with an ``authError`` instead of denying them,
    so that they get the contract's 401/403 problem details rather than API Gateway's bare 403.
    """
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    context: Mapping[str, Any] = authorizer.get("lambda") or {}
    if auth_error := context.get("authError"):
        raise refusal(str(auth_error), context.get("decidedAt"))
    tenant_id, principal = context.get("tenantId"), context.get("principal")
    try:
        role = Role.parse(str(context.get("role", "")))
    except KeyError:
        role = None
    if (
        role is None
        or not (isinstance(tenant_id, str) and TENANT_ID.fullmatch(tenant_id))
        or not (isinstance(principal, str) and 1 <= len(principal) <= MAX_PRINCIPAL_LENGTH)
    ):
        raise Unauthenticated("UNAUTHENTICATED", "The request carries no valid identity.")
    tenant_header = headers.get(TENANT_HEADER)
    if not tenant_header:
        raise InvalidRequest("TENANT_HEADER_MISSING", "The X-Tenant-Id header is required.")
    if tenant_header != tenant_id:
        raise tenant_mismatch()
    return Caller(tenant_id, role, principal)


def require_role(caller: HasRole, minimum: Role) -> None:
    if caller.role < minimum:
        raise Forbidden(
            "INSUFFICIENT_ROLE",
            f"This route needs the {minimum.name.lower()} role; the credential has {caller.role.name.lower()}.",
        )
