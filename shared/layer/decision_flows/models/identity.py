"""Who is calling: the identity the authorizer put into the request context.

A plain dataclass, not a pydantic model: the authorizer builds one on every uncached request and
loads no pydantic (its cold start is kept near the bare boto3 floor, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from decision_flows.models.role import Role

# Tenant ids become part of DynamoDB keys, so "#" (the key separator) may never appear in one.
TENANT_ID_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_TENANT_ID_LENGTH = 128
MAX_PRINCIPAL_LENGTH = 256

__all__ = ["Identity", "Role", "is_tenant_id"]


def is_tenant_id(value: object) -> bool:
    if not isinstance(value, str) or len(value) > MAX_TENANT_ID_LENGTH:
        return False
    return re.fullmatch(TENANT_ID_PATTERN, value) is not None


@dataclass(frozen=True, slots=True)
class Identity:
    """Valid by construction: ValueError for a tenant id, role or principal out of its rules."""

    tenant_id: str
    role: Role
    principal: str

    def __post_init__(self) -> None:
        if not is_tenant_id(self.tenant_id):
            raise ValueError("tenant_id: 1 to 128 letters, digits, '.', '_' or '-'")
        if not isinstance(self.role, Role):
            raise ValueError("role: a Role")
        if not isinstance(self.principal, str) or not 1 <= len(self.principal) <= MAX_PRINCIPAL_LENGTH:
            raise ValueError(f"principal: 1 to {MAX_PRINCIPAL_LENGTH} characters")
