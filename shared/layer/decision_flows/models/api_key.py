"""An API key as stored: never the key itself, only its SHA-256 hash and what it grants.

The plaintext key exists once, when it is created (``domain.api_keys.new_api_key``); after that
only ``prefix`` (its first 12 characters, e.g. ``sk_live_AbCd``) identifies it to a person.
The rules are ``models.key_grant``'s, which the authorizer applies to the same items without pydantic.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_serializer, field_validator

from decision_flows.models.flow import StoredModel
from decision_flows.models.identity import MAX_TENANT_ID_LENGTH, TENANT_ID_PATTERN, Role
from decision_flows.models.key_grant import (
    KEY_HASH_PATTERN,
    KEY_ID_PATTERN,
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    PREFIX_LENGTH,
    PREFIX_PATTERN,
)

# Same rule as Identity.tenant_id: the authorizer hands a key's tenant on as the caller's.
TenantId = Annotated[str, Field(min_length=1, max_length=MAX_TENANT_ID_LENGTH, pattern=TENANT_ID_PATTERN)]


class ApiKey(StoredModel):
    key_hash: str = Field(pattern=KEY_HASH_PATTERN)
    key_id: str = Field(pattern=KEY_ID_PATTERN)
    tenant_id: TenantId
    role: Role
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=NAME_PATTERN)
    prefix: str = Field(min_length=PREFIX_LENGTH, max_length=PREFIX_LENGTH, pattern=PREFIX_PATTERN)
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
