"""Bearer JWTs: verified with PyJWT against the configured JWKS, issuer and audience.

Only the authorizer imports this module (its function ships PyJWT and cryptography), so the other
functions pay nothing for it at cold start. PyJWT itself (with cryptography, ≈65 ms) loads with the
first bearer JWT, not at init: an authorizer that sees only API keys never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from decision_flows.models.identity import Identity, Role

if TYPE_CHECKING:
    import jwt

# Asymmetric only: a JWKS holds public keys, and HS* with a public key as the secret is a forgery.
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})
JWKS_TIMEOUT_SECONDS = 2
# JwtSettings' field → the environment variable that sets it (template.yaml's AuthorizerFunction).
ENVIRONMENT = {
    "jwks_url": "JWT_JWKS_URL",
    "jwks_json": "JWT_JWKS",
    "issuer": "JWT_ISSUER",
    "audience": "JWT_AUDIENCE",
    "tenant_claim": "JWT_TENANT_CLAIM",
    "role_claim": "JWT_ROLE_CLAIM",
    "principal_claim": "JWT_PRINCIPAL_CLAIM",
}


@dataclass(frozen=True, slots=True)
class JwtSettings:
    """Where the signing keys are and what the claims must say; from the environment."""

    jwks_url: str | None = None
    jwks_json: str | None = None
    issuer: str | None = None
    audience: str | None = None
    tenant_claim: str = "tenant_id"
    role_claim: str = "role"
    principal_claim: str = "sub"

    def __post_init__(self) -> None:
        if self.enabled and not (self.issuer and self.audience):
            raise ValueError("JWT verification needs JWT_ISSUER and JWT_AUDIENCE with its JWKS")

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> JwtSettings:
        """Each setting from its variable; an empty variable is an unset one (the template declares them all)."""
        return cls(**{field: environment[name] for field, name in ENVIRONMENT.items() if environment.get(name)})

    @property
    def enabled(self) -> bool:
        return bool(self.jwks_url or self.jwks_json)


class JwtVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings

    @cached_property
    def _jwks_client(self) -> jwt.PyJWKClient | None:
        import jwt

        if not self._settings.jwks_url:
            return None
        return jwt.PyJWKClient(self._settings.jwks_url, cache_keys=True, timeout=JWKS_TIMEOUT_SECONDS)

    @cached_property
    def _key_set(self) -> jwt.PyJWKSet | None:
        import jwt

        return jwt.PyJWKSet.from_json(self._settings.jwks_json) if self._settings.jwks_json else None

    def identity(self, token: str) -> Identity | None:
        """The identity a valid token carries, or None for any invalid, expired or foreign token.

        An unreachable JWKS is raised, not answered with None: the authorizer's refusals are cached,
        and a passing network fault must not lock valid users out for the cache's lifetime.
        """
        if not self._settings.enabled:
            return None
        import jwt

        try:
            claims = self._decode(token)
            tenant, role, principal = (
                claims[self._settings.tenant_claim],
                claims[self._settings.role_claim],
                claims[self._settings.principal_claim],
            )
            if not all(isinstance(claim, str) for claim in (tenant, role, principal)):
                return None
            return Identity(tenant_id=tenant, role=Role.parse(role), principal=principal)
        except jwt.PyJWKClientConnectionError:
            raise
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            return None

    def _decode(self, token: str) -> dict[str, Any]:
        import jwt

        signing_key = self._signing_key(token)
        # The key decides the algorithm, never the token: an RSA key cannot verify an "ES256" token.
        if signing_key.algorithm_name not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"keys for {signing_key.algorithm_name} are not accepted")
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=[signing_key.algorithm_name],
            audience=self._settings.audience,
            issuer=self._settings.issuer,
            options={"require": ["exp", "iss", "aud"]},
            leeway=30,
        )
        return claims

    def _signing_key(self, token: str) -> jwt.PyJWK:
        import jwt

        if self._jwks_client is not None:
            return self._jwks_client.get_signing_key_from_jwt(token)
        assert self._key_set is not None
        kid = jwt.get_unverified_header(token).get("kid")
        signing = [key for key in self._key_set.keys if key.public_key_use in (None, "sig")]
        matching = [key for key in signing if kid is None or key.key_id == kid]
        if len(matching) != 1:
            raise jwt.InvalidKeyError("no single signing key matches the token's kid")
        return matching[0]
