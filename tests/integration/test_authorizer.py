"""The Lambda authorizer as API Gateway runs it (template.yaml's identity sources and routes):
API keys by hash, JWTs by signature, 401 for unknown credentials, 403 for another tenant's."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from decision_flows.dal.api_keys import ApiKeyRepository
from decision_flows.domain.api_keys import hash_key, new_api_key
from decision_flows.models.identity import Role
from decision_flows_local import template
from decision_flows_local.api.gateway import HttpResponse, LambdaContext, build_event, invoke_through_authorizer
from decision_flows_local.fixtures.api_keys import SeedError, seed_api_keys
from tests.support.function_init import modules_loaded_by

ISSUER = "https://idp.example.com/"
AUDIENCE = "decision-flows"
FLOWS = "/api/v1/decision-flows"


@pytest.fixture
def api_keys(dynamodb: Any) -> ApiKeyRepository:
    return ApiKeyRepository(dynamodb, "ApiKeysTable")


def issue_key(api_keys: ApiKeyRepository, tenant: str = "tenant-a", role: Role = Role.EDITOR) -> str:
    plaintext, record = new_api_key(tenant, role, "ci", "test", datetime.now(UTC))
    api_keys.put(record)
    return plaintext


def call(
    method: str, path: str, credential: str | None, tenant: str | None = "tenant-a", **kwargs: Any
) -> HttpResponse:
    headers = {}
    if credential is not None:
        headers["Authorization"] = f"Bearer {credential}"
    if tenant is not None:
        headers["X-Tenant-Id"] = tenant
    return invoke_through_authorizer(build_event(method, path, caller=None, headers=headers, **kwargs))


def test_every_route_but_health_is_behind_the_authorizer() -> None:
    guarded = {(route.method, route.path): route.authorizer for route in template.routes()}
    assert guarded.pop(("GET", "/api/v1/health")) is None
    assert set(guarded.values()) == {"CredentialAuthorizer"}
    assert template.authorizer("CredentialAuthorizer").identity_headers == ("Authorization", "X-Tenant-Id")


class TestApiKeys:
    def test_a_valid_key_reaches_its_tenants_data(self, api_keys: ApiKeyRepository) -> None:
        key = issue_key(api_keys)
        created = call("POST", FLOWS, key, body={"key": "welcome", "name": "Welcome"})
        assert created.status == 201
        assert created.body["tenantId"] == "tenant-a"
        assert created.body["createdBy"].startswith("apikey:key_")
        assert call("GET", FLOWS, key, query={"id": created.body["id"]}).status == 200

    def test_a_readable_local_key_like_the_contracts_example_works(self, api_keys: ApiKeyRepository) -> None:
        # Given the key LOCAL_API_KEYS="sk_test_admin_a=tenant-a:admin" would seed
        _, generated = new_api_key("tenant-a", Role.ADMIN, "local", "test", datetime.now(UTC))
        api_keys.put(generated.model_copy(update={"key_hash": hash_key("sk_test_admin_a")}))
        # Then it authenticates as that tenant's admin
        assert call("POST", FLOWS + "/rollback", "sk_test_admin_a", body={"id": "df_x", "version": 1}).status == 404

    def test_missing_credential_or_tenant_header_is_401(self, api_keys: ApiKeyRepository) -> None:
        key = issue_key(api_keys)
        assert call("GET", FLOWS, None).status == 401
        assert call("GET", FLOWS, key, tenant=None).status == 401

    @pytest.mark.parametrize("credential", ["sk_test_" + "A" * 43, "not-a-key", "sk_live_short", "eyJ.garbage.x"])
    def test_an_unknown_credential_is_401_problem_details(self, dynamodb: Any, credential: str) -> None:
        response = call("GET", FLOWS, credential)
        assert (response.status, response.code) == (401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"

    def test_a_key_of_another_tenant_is_403(self, api_keys: ApiKeyRepository) -> None:
        key = issue_key(api_keys, tenant="tenant-b")
        response = call("GET", FLOWS, key, tenant="tenant-a")
        assert (response.status, response.code) == (403, "TENANT_MISMATCH")

    def test_a_revoked_key_stops_working(self, api_keys: ApiKeyRepository) -> None:
        key = issue_key(api_keys)
        (record,) = api_keys.list_for_tenant("tenant-a")
        assert call("GET", FLOWS, key).status == 200
        api_keys.revoke("tenant-a", record.key_id, datetime.now(UTC))
        assert call("GET", FLOWS, key).status == 401

    def test_the_keys_role_is_enforced(self, api_keys: ApiKeyRepository) -> None:
        viewer_key = issue_key(api_keys, role=Role.VIEWER)
        assert call("GET", FLOWS, viewer_key).status == 200
        refused = call("POST", FLOWS, viewer_key, body={"key": "k", "name": "n"})
        assert (refused.status, refused.code) == (403, "INSUFFICIENT_ROLE")

    def test_health_needs_no_credential(self, dynamodb: Any) -> None:
        assert call("GET", "/api/v1/health", None, tenant=None).status == 200

    def test_a_stored_record_that_breaks_the_records_rules_is_refused_not_a_crash(
        self, api_keys: ApiKeyRepository
    ) -> None:
        # Given a key whose record was stored around validation, with a 10-character prefix
        _, generated = new_api_key("tenant-a", Role.ADMIN, "local", "test", datetime.now(UTC))
        api_keys.put(generated.model_copy(update={"key_hash": hash_key("sk_test_k1"), "prefix": "sk_test_k1"}))

        # When it is presented
        response = call("GET", FLOWS, "sk_test_k1")

        # Then it grants nothing: 401 problem details, as for an unknown key
        assert (response.status, response.code) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("sk_test_k1=tenant-a:admin", "a key is at least 12 characters"),
        ("sk_test_admin_a=tenant a:admin", "a tenant is 1 to 128 letters"),
    ],
    ids=["short key", "tenant with a space"],
)
def test_local_keys_the_authorizer_would_refuse_are_refused_at_start(dynamodb: Any, spec: str, rule: str) -> None:
    with pytest.raises(SeedError, match=f"LOCAL_API_KEYS: key .* is refused: {rule}"):
        seed_api_keys(spec, embedded=True, base_url="http://127.0.0.1:3000")


def test_a_jwks_url_without_issuer_or_audience_fails_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the authorizer deployed with JwtJwksUrl but no JwtIssuer or JwtAudience
    monkeypatch.setenv("JWT_JWKS_URL", "https://idp.example.com/.well-known/jwks.json")
    monkeypatch.setenv("JWT_ISSUER", "")
    monkeypatch.delenv("JWT_AUDIENCE", raising=False)

    # When Lambda initialises it, its init fails loudly (not each request, later)
    with pytest.raises(ValueError, match="JWT_ISSUER and JWT_AUDIENCE"):
        template.handler_module.__wrapped__("AuthorizerFunction")


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch, dynamodb: Any) -> Iterator[rsa.RSAPrivateKey]:
    """A key pair generated here; the authorizer trusts its public half as the JWKS."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    monkeypatch.setenv("JWT_JWKS", json.dumps({"keys": [{**jwk, "kid": "test-key", "use": "sig", "alg": "RS256"}]}))
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", AUDIENCE)
    authorizer = template.handler_module("AuthorizerFunction")
    authorizer.jwt_verifier.cache_clear()
    yield private_key
    authorizer.jwt_verifier.cache_clear()


def token(key: rsa.RSAPrivateKey, kid: str = "test-key", **overrides: Any) -> str:
    claims = {
        "sub": "user-42",
        "tenant_id": "tenant-a",
        "role": "admin",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 300,
        **overrides,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


class TestJwts:
    def test_a_valid_token_maps_its_claims_to_tenant_role_and_principal(self, signing_key: rsa.RSAPrivateKey) -> None:
        response = call("POST", FLOWS, token(signing_key), body={"key": "welcome", "name": "Welcome"})
        assert response.status == 201
        assert (response.body["tenantId"], response.body["createdBy"]) == ("tenant-a", "user-42")

    @pytest.mark.parametrize(
        "overrides",
        [
            {"exp": int(time.time()) - 120},
            {"aud": "someone-else"},
            {"iss": "https://evil.example.com/"},
            {"exp": None},
            {"role": "superuser"},
            {"tenant_id": None},
        ],
        ids=["expired", "wrong-audience", "wrong-issuer", "no-expiry", "unknown-role", "no-tenant"],
    )
    def test_an_invalid_token_is_401(self, signing_key: rsa.RSAPrivateKey, overrides: dict[str, Any]) -> None:
        response = call("GET", FLOWS, token(signing_key, **overrides))
        assert (response.status, response.code) == (401, "UNAUTHENTICATED")

    def test_a_token_signed_by_another_key_is_401(self, signing_key: rsa.RSAPrivateKey) -> None:
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert call("GET", FLOWS, token(stranger)).status == 401
        assert call("GET", FLOWS, token(stranger, kid="other")).status == 401

    def test_a_token_of_another_tenant_is_403(self, signing_key: rsa.RSAPrivateKey) -> None:
        response = call("GET", FLOWS, token(signing_key, tenant_id="tenant-b"))
        assert (response.status, response.code) == (403, "TENANT_MISMATCH")

    def test_a_token_naming_another_algorithm_than_its_key_is_401_not_500(self, signing_key: rsa.RSAPrivateKey) -> None:
        other = ec.generate_private_key(ec.SECP256R1())
        forged = jwt.encode(
            {"sub": "x", "tenant_id": "tenant-a", "role": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": 2**31},
            other,
            algorithm="ES256",
            headers={"kid": "test-key"},
        )
        assert call("GET", FLOWS, forged).status == 401

    @pytest.mark.parametrize(
        "overrides",
        [{"role": "adm\u0131n".encode().decode("unicode_escape")}, {"role": "ADMIN"}, {"tenant_id": True}],
        ids=["dotless-i-role", "upper-case-role", "boolean-tenant"],
    )
    def test_claims_must_be_exact_strings(self, signing_key: rsa.RSAPrivateKey, overrides: dict[str, Any]) -> None:
        assert call("GET", FLOWS, token(signing_key, **overrides)).status == 401

    def test_an_unsigned_token_is_401(self, signing_key: rsa.RSAPrivateKey) -> None:
        unsigned = jwt.encode({"sub": "x", "tenant_id": "tenant-a", "role": "admin"}, "", algorithm="none")
        assert call("GET", FLOWS, unsigned).status == 401


class TestRateLimit:
    def test_over_the_limit_is_429_with_retry_after_and_per_tenant(
        self, api_keys: ApiKeyRepository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from decision_flows import wiring
        from decision_flows.web import access

        # Given a limit of 3 per minute, and a clock 45 s into a window
        monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "3")
        wiring.reset()
        window_start = 1_800_000_000 - 1_800_000_000 % 60
        monkeypatch.setattr(access, "clock", lambda: window_start + 45.0)
        key_a, key_b = issue_key(api_keys), issue_key(api_keys, tenant="tenant-b")

        # When tenant A sends 4 requests (one of them refused for its role: refusals count too)
        statuses = [call("GET", FLOWS, key_a).status for _ in range(2)]
        statuses.append(call("POST", FLOWS + "/rollback", key_a, body={"id": "df_x", "version": 1}).status)
        refused = call("GET", FLOWS, key_a)

        # Then the 4th is 429 with the seconds left in the window, and tenant B is not limited
        assert statuses == [200, 200, 403]
        assert (refused.status, refused.code) == (429, "RATE_LIMITED")
        assert refused.headers["retry-after"] == "15"
        assert call("GET", FLOWS, key_b, tenant="tenant-b").status == 200
        # And the next window admits tenant A again
        monkeypatch.setattr(access, "clock", lambda: window_start + 61.0)
        assert call("GET", FLOWS, key_a).status == 200

    def test_zero_turns_the_limit_off(self, api_keys: ApiKeyRepository, monkeypatch: pytest.MonkeyPatch) -> None:
        from decision_flows import wiring

        monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
        wiring.reset()
        key = issue_key(api_keys)
        assert all(call("GET", FLOWS, key).status == 200 for _ in range(20))


def test_the_sample_authorizer_event_runs_and_refuses_its_placeholder_key(api_keys: ApiKeyRepository) -> None:
    event = json.loads((template.ROOT / "events" / "authorizer" / "request.json").read_text())
    handler = template.handler(template.authorizer("CredentialAuthorizer").function)

    decision = handler(event, LambdaContext())

    assert decision == {"isAuthorized": True, "context": {"authError": "UNAUTHENTICATED"}}
    plaintext = issue_key(api_keys, role=Role.VIEWER)
    event["headers"]["authorization"] = f"Bearer {plaintext}"
    assert handler(event, LambdaContext())["context"]["role"] == "viewer"


def test_the_authorizer_starts_without_pydantic_or_pyjwt() -> None:
    # Given the authorizer's handler module with JWTs off (API keys only), loaded as Lambda would at init
    loaded = modules_loaded_by("AuthorizerFunction")
    # Then PyJWT and cryptography (≈65 ms, until a bearer JWT comes) and pydantic (≈50 ms) are not among its imports
    assert [name in loaded for name in ("jwt", "cryptography", "pydantic")] == [False, False, False]
