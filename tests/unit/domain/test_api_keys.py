"""API keys in the domain: how they are made, hashed and checked, with no store involved."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from decision_flows.domain.api_keys import (
    generate_key,
    hash_key,
    looks_like_api_key,
    new_api_key,
    verify_api_key,
)
from decision_flows.models.api_key import ApiKey
from decision_flows.models.identity import Identity, Role
from decision_flows.models.key_grant import KeyGrant

NOW = datetime(2025, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def secret_of(key: str) -> str:
    return key.split("_", 2)[2]


# generate_key


@pytest.mark.parametrize("environment", ["live", "test"])
def test_a_key_carries_its_environment_prefix_and_43_url_safe_characters(environment: Any) -> None:
    key = generate_key(environment)

    assert key.startswith(f"sk_{environment}_")
    assert len(secret_of(key)) == 43  # 32 random bytes, base64url without padding
    assert URL_SAFE.fullmatch(secret_of(key))
    assert looks_like_api_key(key)


def test_keys_are_unique_and_their_characters_look_uniformly_random() -> None:
    # Given many keys
    keys = [generate_key("live") for _ in range(2000)]

    # Then no two are alike, and not even their first 8 secret characters (48 bits) repeat
    assert len(set(keys)) == len(keys)
    assert len({secret_of(k)[:8] for k in keys}) == len(keys)

    # And the characters are spread over the whole 64-symbol alphabet: the empirical entropy per
    # character is close to the 6 bits a uniform choice gives (≥ 256 bits over 43 characters).
    # The last character carries only 4 bits (32 bytes = 256 bits = 42 * 6 + 4), so it is left out.
    counts = Counter("".join(secret_of(k)[:42] for k in keys))
    total = sum(counts.values())
    entropy = -sum(n / total * math.log2(n / total) for n in counts.values())
    assert len(counts) == 64
    assert entropy > 5.95


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="live"):
        generate_key("prod")  # type: ignore[arg-type]


# hash_key


def test_the_hash_is_the_hex_sha256_of_the_key() -> None:
    key = generate_key("test")

    assert hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_key(key))
    assert hash_key(key) != hash_key(generate_key("test"))


# looks_like_api_key


@pytest.mark.parametrize(
    "token",
    [
        "",
        "sk_live_",
        "sk_prod_" + "a" * 43,
        "pk_live_" + "a" * 43,
        "sk_test_admin a",  # a space is no key character
        "sk_live_" + "a" * 129,  # too long
        "sk_live_" + "a" * 42 + "=",  # not base64url
        "sk_live_" + "a" * 42 + " ",
        " sk_live_" + "a" * 43,
        "sk_live_" + "a" * 43 + "\n",
        "eyJhbGciOiJIUzI1NiJ9.e30.sig",  # a JWT
    ],
)
def test_tokens_that_are_no_api_key_are_told_apart_without_a_lookup(token: str) -> None:
    assert not looks_like_api_key(token)


# new_api_key


def test_a_new_key_is_stored_as_its_hash_with_tenant_role_name_and_creation_time() -> None:
    plaintext, key = new_api_key("tenant-a", Role.EDITOR, "ci", "test", NOW)

    assert plaintext.startswith("sk_test_")
    assert key.key_hash == hash_key(plaintext)
    assert re.fullmatch(r"key_[0-9a-f]{12}", key.key_id)
    assert key.tenant_id == "tenant-a"
    assert key.role is Role.EDITOR
    assert key.name == "ci"
    assert key.prefix == plaintext[:12]
    assert key.created_at == "2025-03-04T05:06:07.891Z"
    assert key.revoked_at is None
    assert key.is_active


def test_the_stored_record_holds_nothing_of_the_secret_but_its_four_character_prefix() -> None:
    plaintext, key = new_api_key("tenant-a", Role.ADMIN, "ci", "live", NOW)

    dumped = key.model_dump_json(by_alias=True)

    assert plaintext not in dumped
    assert secret_of(plaintext) not in dumped
    assert secret_of(plaintext)[:5] not in dumped


def test_the_record_stores_the_role_by_name_and_reads_it_back() -> None:
    _, key = new_api_key("tenant-a", Role.VIEWER, "dashboards", "live", NOW)

    stored = key.model_dump(mode="json", by_alias=True, exclude_none=True)

    assert stored["role"] == "viewer"
    assert set(stored) == {"keyHash", "keyId", "tenantId", "role", "name", "prefix", "createdAt"}
    assert ApiKey.model_validate(stored) == key


@pytest.mark.parametrize(
    ("tenant", "name"),
    [("tenant#a", "ci"), ("", "ci"), ("tenant-a", ""), ("tenant-a", "ci\n\x1b[31mred")],
)
def test_a_key_for_a_malformed_tenant_or_name_is_refused(tenant: str, name: str) -> None:
    with pytest.raises(ValidationError):
        new_api_key(tenant, Role.ADMIN, name, "live", NOW)


# verify_api_key


def test_the_right_key_verifies() -> None:
    plaintext, key = new_api_key("tenant-a", Role.ADMIN, "ci", "live", NOW)

    assert verify_api_key(plaintext, key) == key


def test_another_key_does_not_verify_against_a_stored_record() -> None:
    plaintext, key = new_api_key("tenant-a", Role.ADMIN, "ci", "live", NOW)
    other, _ = new_api_key("tenant-a", Role.ADMIN, "ci", "live", NOW)

    assert verify_api_key(other, key) is None
    assert verify_api_key(plaintext[:-1], key) is None
    assert verify_api_key(plaintext.replace("sk_live_", "sk_test_"), key) is None


def test_a_revoked_key_does_not_verify() -> None:
    plaintext, key = new_api_key("tenant-a", Role.ADMIN, "ci", "live", NOW)
    revoked = key.model_copy(update={"revoked_at": "2025-03-05T00:00:00.000Z"})

    assert not revoked.is_active
    assert verify_api_key(plaintext, revoked) is None


def test_a_key_with_no_stored_record_does_not_verify() -> None:
    assert verify_api_key(generate_key("live"), None) is None


def test_verification_compares_hashes_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a spy on hmac.compare_digest
    calls: list[tuple[Any, Any]] = []
    real_compare = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    plaintext, key = new_api_key("tenant-a", Role.ADMIN, "ci", "live", NOW)

    # When a right and a wrong key are verified
    assert verify_api_key(plaintext, key) == key
    assert verify_api_key(generate_key("live"), key) is None

    # Then both went through compare_digest, hash against stored hash
    assert len(calls) == 2
    assert calls[0] == (hash_key(plaintext), key.key_hash)
    assert calls[1][1] == key.key_hash


# what the authorizer reads: a KeyGrant, by the rules of ApiKey without pydantic

VALID_RECORD = new_api_key("tenant-a", Role.EDITOR, "ci", "live", NOW)[1].model_dump(mode="json", by_alias=True)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"revokedAt": "2025-03-05T00:00:00.000Z"},
        {"keyHash": "A" * 64},
        {"keyHash": "a" * 65},
        {"keyId": "key_123"},
        {"tenantId": ""},
        {"tenantId": "tenant a"},
        {"tenantId": "t#1"},
        {"tenantId": "t" * 129},
        {"tenantId": "tenant-a\n"},
        {"role": "superuser"},
        {"role": "ADMIN"},
        {"name": ""},
        {"name": "n" * 201},
        {"name": "two\nlines"},
        {"prefix": "sk_test_k1"},
        {"prefix": "sk_prod_AbCd"},
        {"createdAt": None},
    ],
)
def test_the_authorizer_refuses_exactly_the_records_the_key_model_refuses(change: dict[str, Any]) -> None:
    # Given a stored record with one attribute changed (None: missing)
    record = {name: value for name, value in (VALID_RECORD | change).items() if value is not None}
    try:
        whole: ApiKey | None = ApiKey.model_validate(record)
    except ValidationError:
        whole = None

    # When the authorizer reads it / Then it grants what the record says, or refuses what ApiKey refuses
    if whole is None:
        with pytest.raises(ValueError, match="invalid or missing"):
            KeyGrant.from_attributes(record)
    else:
        grant = KeyGrant.from_attributes(record)
        assert (grant.key_hash, grant.key_id, grant.tenant_id, grant.role, grant.is_active) == (
            whole.key_hash,
            whole.key_id,
            whole.tenant_id,
            whole.role,
            whole.is_active,
        )


@pytest.mark.parametrize(
    "fields",
    [{"tenant_id": "a#b"}, {"tenant_id": ""}, {"principal": ""}, {"principal": "p" * 257}, {"role": 3}],
)
def test_an_identity_out_of_its_rules_cannot_be_made(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(fields))):
        replace(Identity(tenant_id="tenant-a", role=Role.ADMIN, principal="alice"), **fields)
