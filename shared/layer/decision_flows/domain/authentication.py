"""Who a bearer credential is: an API key (looked up by hash) or a JWT (verified by signature).

The decision is made once per (Authorization, X-Tenant-Id) pair, which is also the authorizer's
cache key, so a cached decision can never serve another tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from decision_flows.domain.api_keys import hash_key, looks_like_api_key, verify_api_key
from decision_flows.domain.errors import StoreUnavailable
from decision_flows.models.identity import Identity
from decision_flows.models.key_grant import KeyGrant


class AuthFailure(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TENANT_MISMATCH = "TENANT_MISMATCH"
    STORE_BUSY = "STORE_BUSY"  # the key could not be looked up: neither a yes nor a no


@dataclass(frozen=True, slots=True)
class Authentication:
    identity: Identity | None = None
    failure: AuthFailure | None = None


class KeyLookup(Protocol):
    def get_by_hash(self, key_hash: str) -> KeyGrant | None:
        """The stored key with that hash, None when there is none (or none valid); StoreUnavailable
        when the store did not answer."""
        ...


class TokenVerifier(Protocol):
    def identity(self, token: str) -> Identity | None: ...


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authenticate(
    authorization: str | None, tenant_header: str | None, keys: KeyLookup, tokens: TokenVerifier
) -> Authentication:
    token = bearer_token(authorization)
    identity: Identity | None = None
    if token is not None and looks_like_api_key(token):
        try:
            stored = keys.get_by_hash(hash_key(token))
        except StoreUnavailable:
            return Authentication(failure=AuthFailure.STORE_BUSY)
        key = verify_api_key(token, stored)
        if key is not None:
            identity = Identity(tenant_id=key.tenant_id, role=key.role, principal=f"apikey:{key.key_id}")
    elif token is not None:
        identity = tokens.identity(token)
    if identity is None:
        return Authentication(failure=AuthFailure.UNAUTHENTICATED)
    if tenant_header != identity.tenant_id:
        return Authentication(failure=AuthFailure.TENANT_MISMATCH)
    return Authentication(identity=identity)
