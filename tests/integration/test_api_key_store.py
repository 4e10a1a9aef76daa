"""API keys end to end against moto: the management command writes, lists and revokes them, and
what it prints verifies through the repository as the authorizer will verify it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from decision_flows.dal.api_keys import ApiKeyRepository
from decision_flows.domain.api_keys import hash_key, new_api_key, verify_api_key
from decision_flows.domain.errors import NotFound
from decision_flows.models.api_key import ApiKey
from decision_flows.models.identity import Role
from decision_flows.settings import settings
from decision_flows_admin import keys as cli
from tests.support.tenants import TENANT_A, TENANT_B

TABLE = "ApiKeysTable"
PRINTED_KEY = re.compile(r"sk_(?:live|test)_[A-Za-z0-9_-]{43}")
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def repository(dynamodb: Any) -> ApiKeyRepository:
    return ApiKeyRepository(dynamodb, settings().api_keys_table)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def create_key(capsys: pytest.CaptureFixture[str], tenant: str = TENANT_A, *extra: str) -> tuple[str, str]:
    """Create a key with the command; its plaintext and key id, as printed."""
    code, out, err = run(capsys, "create", "--tenant", tenant, "--role", "admin", "--name", "ci", *extra)
    assert (code, err) == (0, "")
    printed = PRINTED_KEY.findall(out)
    assert len(printed) == 1, "the key is printed exactly once"
    key_id = re.search(r"key_[0-9a-f]{12}", out)
    assert key_id is not None
    return printed[0], key_id.group()


def scan(dynamodb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=TABLE)["Items"]
    return items


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere in a DynamoDB item (names and values, nested or not)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, inner in value.items():
            yield name
            yield from strings_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings_in(inner)


def test_the_template_names_the_api_keys_table_for_every_function() -> None:
    assert settings().api_keys_table == TABLE


def test_a_created_key_is_printed_once_and_verifies_through_the_store(
    repository: ApiKeyRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the command creates a test key
    plaintext, key_id = create_key(capsys, TENANT_A, "--env", "test")

    # Then the printed key is found by its hash and verifies, with the tenant and role asked for
    assert plaintext.startswith("sk_test_")
    found = verify_api_key(plaintext, repository.get_by_hash(hash_key(plaintext)))
    assert found is not None
    assert (found.key_id, found.tenant_id, found.role, found.name) == (key_id, TENANT_A, Role.ADMIN, "ci")
    assert found.prefix == plaintext[:12]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", found.created_at)


def test_the_store_holds_no_plaintext_key_anywhere(
    dynamodb: Any, repository: ApiKeyRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a created key
    plaintext, _ = create_key(capsys)
    secret = plaintext.removeprefix("sk_live_")

    # Then no attribute of any item holds the key or its secret part; the hash is what is stored
    items = scan(dynamodb)
    assert len(items) == 1
    stored = list(strings_in(items[0]))
    assert not [s for s in stored if plaintext in s or secret in s]
    assert items[0]["keyHash"] == {"S": hash_key(plaintext)}
    assert items[0]["role"] == {"S": "admin"}


def test_the_listing_shows_the_key_but_neither_the_key_nor_its_hash(
    repository: ApiKeyRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two keys of one tenant
    first, first_id = create_key(capsys)
    second, second_id = create_key(capsys)

    # When the tenant's keys are listed
    code, out, err = run(capsys, "list", "--tenant", TENANT_A)

    # Then both are listed by id, display prefix, role and name, and no secret is printed
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["KEY", "ID", "PREFIX", "ROLE", "NAME", "CREATED", "REVOKED"]
    assert {line.split()[0] for line in lines[1:]} == {first_id, second_id}
    for plaintext in (first, second):
        assert plaintext[:12] in out
        assert plaintext not in out
        assert plaintext[12:] not in out
        assert hash_key(plaintext) not in out
    assert not PRINTED_KEY.search(out)
    assert not re.search(r"[0-9a-f]{64}", out)


def test_a_revoked_key_stops_verifying_and_is_listed_as_revoked(
    repository: ApiKeyRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a working key
    plaintext, key_id = create_key(capsys)
    assert verify_api_key(plaintext, repository.get_by_hash(hash_key(plaintext))) is not None

    # When it is revoked
    code, out, err = run(capsys, "revoke", "--tenant", TENANT_A, "--key-id", key_id)

    # Then it no longer verifies, and the listing shows when it was revoked
    assert (code, err) == (0, "")
    assert f"Revoked {key_id}" in out
    stored = repository.get_by_hash(hash_key(plaintext))
    assert stored is not None
    assert stored.revoked_at is not None
    assert verify_api_key(plaintext, stored) is None
    _, listing, _ = run(capsys, "list", "--tenant", TENANT_A)
    assert stored.revoked_at in listing.splitlines()[1]


def test_revoking_twice_keeps_the_first_revocation(
    repository: ApiKeyRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    plaintext, key_id = create_key(capsys)
    assert run(capsys, "revoke", "--tenant", TENANT_A, "--key-id", key_id)[0] == 0
    first = repository.get_by_hash(hash_key(plaintext))
    assert first is not None

    code, out, err = run(capsys, "revoke", "--tenant", TENANT_A, "--key-id", key_id)

    assert (code, err) == (0, "")
    assert "already revoked" in out
    assert repository.get_by_hash(hash_key(plaintext)) == first


def test_revoking_an_unknown_key_fails(capsys: pytest.CaptureFixture[str], dynamodb: Any) -> None:
    code, out, err = run(capsys, "revoke", "--tenant", TENANT_A, "--key-id", "key_000000000000")

    assert code == 1
    assert out == ""
    assert "API_KEY_NOT_FOUND" in err


def test_a_tenant_neither_lists_nor_revokes_another_tenants_keys(
    repository: ApiKeyRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a key of each tenant
    a_key, a_id = create_key(capsys, TENANT_A)
    _, b_id = create_key(capsys, TENANT_B)

    # Then each tenant's listing has its own key only
    _, a_listing, _ = run(capsys, "list", "--tenant", TENANT_A)
    _, b_listing, _ = run(capsys, "list", "--tenant", TENANT_B)
    assert a_id in a_listing
    assert b_id not in a_listing
    assert b_id in b_listing
    assert a_id not in b_listing
    assert [k.key_id for k in repository.list_for_tenant(TENANT_B)] == [b_id]

    # And tenant B cannot revoke tenant A's key
    code, _, err = run(capsys, "revoke", "--tenant", TENANT_B, "--key-id", a_id)
    assert code == 1
    assert "API_KEY_NOT_FOUND" in err
    assert verify_api_key(a_key, repository.get_by_hash(hash_key(a_key))) is not None


def test_a_tenant_without_keys_lists_none(capsys: pytest.CaptureFixture[str], dynamodb: Any) -> None:
    code, out, _ = run(capsys, "list", "--tenant", TENANT_B)

    assert code == 0
    assert out.strip() == f"No API keys for tenant {TENANT_B}."


def test_listing_reads_every_page(repository: ApiKeyRepository, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given more keys than one Query page holds (each page is capped here at 2 items)
    stored = []
    for n in range(5):
        _, key = new_api_key(TENANT_A, Role.VIEWER, f"key {n}", "live", NOW.replace(second=n))
        repository.put(key)
        stored.append(key)
    pages = 0
    original_query = dynamodb.query

    def small_pages(**params: Any) -> Any:
        nonlocal pages
        pages += 1
        return original_query(**params, Limit=2)

    monkeypatch.setattr(dynamodb, "query", small_pages)

    # When the tenant's keys are listed
    listed = repository.list_for_tenant(TENANT_A)

    # Then all of them come back, oldest first
    assert pages == 3
    assert listed == stored


def test_a_key_is_never_overwritten(repository: ApiKeyRepository) -> None:
    _, key = new_api_key(TENANT_A, Role.ADMIN, "ci", "live", NOW)
    repository.put(key)
    revoked = repository.revoke(TENANT_A, key.key_id, NOW)

    with pytest.raises(Exception, match="API_KEY_EXISTS"):
        repository.put(key)
    assert repository.get_by_hash(key.key_hash) == revoked


def test_the_repository_refuses_to_revoke_another_tenants_key(repository: ApiKeyRepository) -> None:
    _, key = new_api_key(TENANT_A, Role.ADMIN, "ci", "live", NOW)
    repository.put(key)

    with pytest.raises(NotFound) as refused:
        repository.revoke(TENANT_B, key.key_id, NOW)

    assert refused.value.code == "API_KEY_NOT_FOUND"
    assert repository.get_by_hash(key.key_hash) == key


def test_an_unknown_hash_finds_nothing(repository: ApiKeyRepository) -> None:
    assert repository.get_by_hash(hash_key("sk_live_" + "x" * 43)) is None


# The command's own guard rails


def test_the_table_must_be_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], dynamodb: Any
) -> None:
    # Given no API_KEYS_TABLE_NAME in the environment
    monkeypatch.delenv("API_KEYS_TABLE_NAME")

    # Then the command refuses to guess a table
    code, out, err = run(capsys, "list", "--tenant", TENANT_A)
    assert code == 1
    assert out == ""
    assert "--table" in err
    assert "API_KEYS_TABLE_NAME" in err

    # And --table names it
    plaintext, _ = create_key(capsys, TENANT_A, "--table", TABLE)
    items = scan(dynamodb)
    assert [item["keyHash"]["S"] for item in items] == [hash_key(plaintext)]


def test_a_missing_table_is_a_clear_error(capsys: pytest.CaptureFixture[str], dynamodb: Any) -> None:
    code, _, err = run(capsys, "list", "--tenant", TENANT_A, "--table", "NoSuchTable")

    assert code == 1
    assert "NoSuchTable" in err
    assert "not found" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--tenant", "tenant#a", "--role", "admin", "--name", "ci"],
        ["create", "--tenant", TENANT_A, "--role", "admin", "--name", ""],
        ["list", "--tenant", "a/b"],
    ],
)
def test_invalid_input_is_refused_before_anything_is_written(
    argv: list[str], capsys: pytest.CaptureFixture[str], dynamodb: Any
) -> None:
    code, out, err = run(capsys, *argv)

    assert code == 1
    assert out == ""
    assert err.startswith("error: invalid input")
    assert scan(dynamodb) == []


def test_usage_errors_are_returned_not_raised(capsys: pytest.CaptureFixture[str], dynamodb: Any) -> None:
    code, _, err = run(capsys, "create", "--tenant", TENANT_A, "--role", "owner", "--name", "ci")

    assert code != 0
    assert "invalid choice" in err
    assert scan(dynamodb) == []


def test_a_stored_record_round_trips(repository: ApiKeyRepository) -> None:
    _, key = new_api_key(TENANT_A, Role.EDITOR, "deploys", "test", NOW)
    repository.put(key)

    found = repository.get_by_hash(key.key_hash)

    assert isinstance(found, ApiKey)
    assert found == key
