"""What a stored API key grants, as the authorizer reads it: a tenant and a role, unless revoked.

The authorizer's view of an API keys table item (``ApiKey`` is the whole record, for the keys
command, and keeps the same rules through the patterns here). Plain code, no pydantic, for the same
reason as ``Identity``: the authorizer runs before every uncached request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from decision_flows.models.identity import Role, is_tenant_id

KEY_HASH_PATTERN = r"^[0-9a-f]{64}$"
KEY_ID_PATTERN = r"^key_[0-9a-f]{12}$"
# "sk_live_" or "sk_test_" and the first 4 characters of the secret: 24 of its 256 bits, enough to
# tell keys apart in a listing and far too few to help guess one.
PREFIX_LENGTH = 12
PREFIX_PATTERN = r"^sk_(live|test)_"
# Printed in listings: no control characters (newlines, terminal escapes).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
MAX_NAME_LENGTH = 200


def _matches(pattern: str, value: str | None, lengths: range | None = None) -> bool:
    """``pattern`` found as pydantic finds a Field's (a search: the patterns anchor themselves)."""
    return value is not None and re.search(pattern, value) is not None and (lengths is None or len(value) in lengths)


# Every rule of a stored record: one that breaks any of them grants nothing, as with ``ApiKey``.
_RULES: dict[str, Callable[[str | None], bool]] = {
    "keyHash": lambda value: _matches(KEY_HASH_PATTERN, value),
    "keyId": lambda value: _matches(KEY_ID_PATTERN, value),
    "tenantId": is_tenant_id,
    "role": lambda value: value in {role.name.lower() for role in Role},
    "name": lambda value: _matches(NAME_PATTERN, value, range(1, MAX_NAME_LENGTH + 1)),
    "prefix": lambda value: _matches(PREFIX_PATTERN, value, range(PREFIX_LENGTH, PREFIX_LENGTH + 1)),
    "createdAt": lambda value: value is not None,
}


@dataclass(frozen=True, slots=True)
class KeyGrant:
    key_hash: str
    key_id: str
    tenant_id: str
    role: Role
    revoked_at: str | None = None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, str]) -> KeyGrant:
        """From a stored item's string attributes (camelCase, the role by name); ValueError naming the
        attributes that break the record's rules."""
        broken = [name for name, rule in _RULES.items() if not rule(attributes.get(name))]
        if broken:
            raise ValueError(f"invalid or missing: {', '.join(broken)}")
        return cls(
            key_hash=attributes["keyHash"],
            key_id=attributes["keyId"],
            tenant_id=attributes["tenantId"],
            role=Role.parse(attributes["role"]),
            revoked_at=attributes.get("revokedAt"),
        )
