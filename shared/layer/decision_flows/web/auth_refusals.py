"""The refusal a request gets when the authorizer refused its credential (``authError`` in the
authorizer's context): it lets such requests through so that they get problem details, 401 or 403,
rather than an HTTP API's bare 403. Standard library only, for the $default route's function too."""

from __future__ import annotations

from decision_flows.domain.errors import DomainError, Forbidden, Unauthenticated


def tenant_mismatch() -> Forbidden:
    return Forbidden("TENANT_MISMATCH", "The credential does not belong to the tenant in X-Tenant-Id.")


def refusal(auth_error: str) -> DomainError:
    if auth_error == "TENANT_MISMATCH":
        return tenant_mismatch()
    return Unauthenticated("UNAUTHENTICATED", "The credential is missing, unknown, revoked or expired.")
