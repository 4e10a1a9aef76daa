"""Who is calling: the identity the authorizer put into the request context."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from decision_flows.models.role import Role

__all__ = ["Identity", "Role"]


class Identity(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Tenant ids become part of DynamoDB keys, so "#" (the key separator) may never appear in one.
    tenant_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    role: Role
    principal: str = Field(min_length=1, max_length=256)
