"""An API key as stored: never the key itself, only its SHA-256 hash and what it grants.

The plaintext key exists once, when it is created (``domain.api_keys.new_api_key``); after that
only ``prefix`` (its first 12 characters, e.g. ``sk_live_AbCd``) identifies it to a person.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_serializer, field_validator

from decision_flows.models.flow import StoredModel
from decision_flows.models.identity import Role

# "sk_live_" or "sk_test_" and the first 4 characters of the secret: 24 of its 256 bits, enough to
# tell keys apart in a listing and far too few to help guess one.
PREFIX_LENGTH = 12

# Same rule as Identity.tenant_id: the authorizer hands a key's tenant on as the caller's.
TenantId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]


class ApiKey(StoredModel):
    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    key_id: str = Field(pattern=r"^key_[0-9a-f]{12}$")
    tenant_id: TenantId
    role: Role
    # Printed in listings: no control characters (newlines, terminal escapes).
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    prefix: str = Field(min_length=PREFIX_LENGTH, max_length=PREFIX_LENGTH, pattern=r"^sk_(live|test)_")
    created_at: str
    revoked_at: str | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _role_by_name(cls, value: Any) -> Any:
        """Stored (and typed on the command line) by name: "admin", not 3."""
        if isinstance(value, str):
            try:
                return Role.parse(value)
            except KeyError:
                raise ValueError(f"unknown role {value!r}; expected viewer, editor or admin") from None
        return value

    @field_serializer("role")
    def _role_name(self, role: Role) -> str:
        return role.name.lower()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
