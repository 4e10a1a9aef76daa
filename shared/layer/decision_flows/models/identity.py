"""Who is calling: the identity the authorizer put into the request context."""

from enum import IntEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field


class Role(IntEnum):
    """Ordered so that a higher role includes every right of a lower one."""

    VIEWER = 1
    EDITOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Self:
        """Exactly "viewer", "editor" or "admin" (KeyError otherwise): no case or Unicode folding,
        under which "adm\u0131n" (a dotless i) would upper-case to ADMIN."""
        return {role.name.lower(): role for role in cls}[name]


class Identity(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    # Tenant ids become part of DynamoDB keys, so "#" (the key separator) may never appear in one.
    tenant_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    role: Role
    principal: str = Field(min_length=1, max_length=256)
