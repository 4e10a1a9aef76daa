"""API keys: making them, hashing them and checking a presented key against its stored record.

A key is ``sk_live_`` or ``sk_test_`` followed by 43 URL-safe characters from ``secrets``
(32 random bytes, 256 bits). Only its SHA-256 hash is ever stored. A plain, unsalted hash is
enough for keys of that entropy (there is no dictionary to attack) and it lets the store look a
key up by its hash in one read.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from decision_flows.domain.clock import timestamp
from decision_flows.models.identity import Role
from decision_flows.models.key_grant import PREFIX_LENGTH

if TYPE_CHECKING:
    from decision_flows.models.api_key import ApiKey

Environment = Literal["live", "test"]


class StoredKey(Protocol):
    """A stored key as either reader sees it: the authorizer's ``KeyGrant`` or the whole ``ApiKey``."""

    @property
    def key_hash(self) -> str: ...

    @property
    def is_active(self) -> bool: ...


SECRET_BYTES = 32
# Generated keys carry 43 characters (256 bits); the shape admits shorter ones because a key's
# strength is in what was generated and stored, not in this check: a key is found only by the hash
# of its exact text. Local runs seed readable keys such as the contract's `sk_test_admin_a`
# (LOCAL_API_KEYS). The cap keeps the work done on a presented token bounded.
_API_KEY = re.compile(r"sk_(?:live|test)_[A-Za-z0-9_-]{1,128}")


def generate_key(environment: Environment) -> str:
    if environment not in ("live", "test"):
        raise ValueError(f"environment must be 'live' or 'test', not {environment!r}")
    return f"sk_{environment}_{secrets.token_urlsafe(SECRET_BYTES)}"


def hash_key(plaintext: str) -> str:
    """The stored form of a key: its SHA-256 as 64 lowercase hex digits."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def looks_like_api_key(token: str) -> bool:
    """Cheap shape check before any lookup, so that junk tokens cost no read."""
    return _API_KEY.fullmatch(token) is not None


def new_key_id() -> str:
    return f"key_{secrets.token_hex(6)}"


def new_api_key(tenant_id: str, role: Role, name: str, environment: Environment, now: datetime) -> tuple[str, ApiKey]:
    """A fresh key: the plaintext (to show once, then forget) and the record to store."""
    # Imported here: the authorizer imports this module to verify keys and loads no pydantic.
    from decision_flows.models.api_key import ApiKey

    plaintext = generate_key(environment)
    record = ApiKey(
        key_hash=hash_key(plaintext),
        key_id=new_key_id(),
        tenant_id=tenant_id,
        role=role,
        name=name,
        prefix=plaintext[:PREFIX_LENGTH],
        created_at=timestamp(now),
    )
    return plaintext, record


def verify_api_key[Key: StoredKey](plaintext: str, stored: Key | None) -> Key | None:
    """The stored key when ``plaintext`` is that key and it is not revoked; otherwise None."""
    if stored is None:
        return None
    # Constant time, so that how long a comparison takes says nothing about how much of it matched.
    if not hmac.compare_digest(hash_key(plaintext), stored.key_hash):
        return None
    if not stored.is_active:
        return None
    return stored
