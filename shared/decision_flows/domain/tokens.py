"""Bearer JWTs: verified with PyJWT against the configured JWKS, issuer and audience.

Only the authorizer imports this module (its function ships PyJWT and cryptography), so the other
functions pay nothing for it at cold start.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from decision_flows.models.identity import Identity, Role

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class JwtSettings(BaseModel):
    """Where the signing keys are and what the claims must say; from the environment."""

    model_config = ConfigDict(frozen=True)

    jwks_url: str | None = Field(default=None, validation_alias="JWT_JWKS_URL")
    jwks_json: str | None = Field(default=None, validation_alias="JWT_JWKS")
    issuer: str | None = Field(default=None, validation_alias="JWT_ISSUER")
    audience: str | None = Field(default=None, validation_alias="JWT_AUDIENCE")
    tenant_claim: str = Field(default="tenant_id", validation_alias="JWT_TENANT_CLAIM")
    role_claim: str = Field(default="role", validation_alias="JWT_ROLE_CLAIM")
    principal_claim: str = Field(default="sub", validation_alias="JWT_PRINCIPAL_CLAIM")

    @model_validator(mode="after")
    def _complete_or_off(self) -> JwtSettings:
        if self.enabled and not (self.issuer and self.audience):
            raise ValueError("JWT verification needs JWT_ISSUER and JWT_AUDIENCE with its JWKS")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.jwks_url or self.jwks_json)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


class JwtVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings

    @cached_property
    def _jwks_client(self) -> jwt.PyJWKClient | None:
        return jwt.PyJWKClient(self._settings.jwks_url, cache_keys=True) if self._settings.jwks_url else None

    @cached_property
    def _key_set(self) -> jwt.PyJWKSet | None:
        return jwt.PyJWKSet.from_json(self._settings.jwks_json) if self._settings.jwks_json else None

    def identity(self, token: str) -> Identity | None:
        """The identity a valid token carries, or None for any invalid, expired or foreign token."""
        if not self._settings.enabled:
            return None
        try:
            claims = self._decode(token)
            return Identity(
                tenant_id=str(claims[self._settings.tenant_claim]),
                role=Role.parse(str(claims[self._settings.role_claim])),
                principal=str(claims[self._settings.principal_claim]),
            )
        except (jwt.PyJWTError, KeyError, ValueError, json.JSONDecodeError):
            return None

    def _decode(self, token: str) -> dict[str, Any]:
        signing_key = self._signing_key(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key,
            algorithms=ALGORITHMS,
            audience=self._settings.audience,
            issuer=self._settings.issuer,
            options={"require": ["exp", "iss", "aud"]},
            leeway=30,
        )
        return claims

    def _signing_key(self, token: str) -> Any:
        if self._jwks_client is not None:
            return self._jwks_client.get_signing_key_from_jwt(token).key
        assert self._key_set is not None
        kid = jwt.get_unverified_header(token).get("kid")
        matching = [key for key in self._key_set.keys if kid is None or key.key_id == kid]
        if len(matching) != 1:
            raise jwt.InvalidKeyError("no single signing key matches the token's kid")
        return matching[0].key
