"""API keys for a local run: ``LOCAL_API_KEYS="key=tenant:role,…"``, or one new admin key."""

from __future__ import annotations

from pydantic import ValidationError

from decision_flows.dal.api_keys import ApiKeyRepository
from decision_flows.dal.client import dynamodb_client
from decision_flows.domain.api_keys import hash_key, looks_like_api_key, new_api_key
from decision_flows.domain.clock import utc_now
from decision_flows.domain.errors import Conflict
from decision_flows.models.api_key import PREFIX_LENGTH, ApiKey
from decision_flows.models.identity import Role
from decision_flows.settings import settings

DEFAULT_TENANT = "tenant-local"
# The contract's own example key (LOCAL_API_KEYS="sk_test_admin_a=tenant-a:admin,…").
EXAMPLE_ADMIN_KEY, EXAMPLE_TENANT = "sk_test_admin_a", "tenant-a"


class SeedError(ValueError):
    """LOCAL_API_KEYS says something the service could not accept."""


def seed_api_keys(spec: str, embedded: bool, base_url: str) -> list[str]:
    """Store the keys ``spec`` lists; return lines to print. Without ``spec``: on the embedded store
    (in memory, gone with the server) the contract's example admin key, so that the README's curl
    examples work as written; on any other store, one new random admin key."""
    repository = ApiKeyRepository(dynamodb_client(), settings().api_keys_table)
    if not spec.strip() and embedded:
        spec = f"{EXAMPLE_ADMIN_KEY}={EXAMPLE_TENANT}:admin"
    if not spec.strip():
        plaintext, key = new_api_key(DEFAULT_TENANT, Role.ADMIN, "local admin", "test", utc_now())
        repository.put(key)
        return [
            f"API key (admin of {DEFAULT_TENANT}): {plaintext}",
            f"  curl -H 'Authorization: Bearer {plaintext}' -H 'X-Tenant-Id: {DEFAULT_TENANT}' "
            f"{base_url}/api/v1/decision-flows",
        ]
    lines = []
    for entry in spec.split(","):
        plaintext, _, grant = entry.strip().partition("=")
        tenant, _, role_name = grant.partition(":")
        if not looks_like_api_key(plaintext) or not tenant:
            raise SeedError(f"LOCAL_API_KEYS entry {entry.strip()[:20]!r}… is not 'sk_test_…=tenant:role'")
        try:
            role = Role.parse(role_name)
        except KeyError:
            raise SeedError(f"LOCAL_API_KEYS: role {role_name!r} is not viewer, editor or admin") from None
        key = _record_of(plaintext, tenant, role)
        kept = _store_or_keep(repository, key)
        shown = plaintext if plaintext == EXAMPLE_ADMIN_KEY else f"{key.prefix}…"
        lines.append(f"API key {shown} → {tenant}:{role_name}" + (" (already stored)" if kept else ""))
    return lines


# What the stored record's rules mean for a LOCAL_API_KEYS entry, by the field that broke one.
RULES = {
    "prefix": f"a key is at least {PREFIX_LENGTH} characters ('sk_test_' and 4 more)",
    "tenant_id": "a tenant is 1 to 128 letters, digits, '.', '_' or '-'",
}


def _record_of(plaintext: str, tenant: str, role: Role) -> ApiKey:
    """The record the authorizer will read for ``plaintext``, validated as it will be (a record it
    would refuse is refused here, at start, rather than every request with that key being a 401)."""
    try:
        _, generated = new_api_key(tenant, role, "LOCAL_API_KEYS", "test", utc_now())
        fields = generated.model_dump() | {"key_hash": hash_key(plaintext), "prefix": plaintext[:PREFIX_LENGTH]}
        return ApiKey.model_validate(fields)
    except ValidationError as error:
        broken = sorted({str(problem["loc"][0]) for problem in error.errors()})
        rules = "; ".join(RULES.get(field, f"{field} is invalid") for field in broken)
        raise SeedError(
            f"LOCAL_API_KEYS: key {plaintext[:PREFIX_LENGTH]!r}… for {tenant!r} is refused: {rules}"
        ) from None


def _store_or_keep(repository: ApiKeyRepository, key: ApiKey) -> bool:
    """Store ``key``; True when a kept store (a restart) already holds it with the same grant."""
    try:
        repository.put(key)
        return False
    except Conflict:
        stored = repository.get_by_hash(key.key_hash)
    if stored is None:  # refused a moment ago, gone now: nothing sensible to do but say so
        raise SeedError(f"LOCAL_API_KEYS: key {key.prefix}… could not be stored; try again")
    if (stored.tenant_id, stored.role, stored.is_active) != (key.tenant_id, key.role, True):
        grant = f"{stored.tenant_id}:{stored.role.name.lower()}" + ("" if stored.is_active else ", revoked")
        raise SeedError(
            f"LOCAL_API_KEYS: key {key.prefix}… is already stored as {stored.key_id} ({grant}), not as"
            f" {key.tenant_id}:{key.role.name.lower()}; give it its stored grant, or use another key"
        )
    return True
