"""Opaque keyset cursors: they round-trip, and anything not handed out by the list is a 400."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from decision_flows.dal import cursor
from decision_flows.domain.errors import InvalidRequest

KEY_NAMES = frozenset({"PK", "SK"})
START_KEY = {"PK": "TENANT#tenant-a#FLOW#df_1", "SK": "VERSION#0000000003"}


def any_partition(_: dict[str, str]) -> bool:
    return True


def tenant_a_only(start: dict[str, str]) -> bool:
    return start["PK"].startswith("TENANT#tenant-a#")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_invalid(page_cursor: str, expected: Callable[[dict[str, str]], bool] = any_partition) -> None:
    with pytest.raises(InvalidRequest) as caught:
        cursor.decode(page_cursor, expected, KEY_NAMES)
    assert caught.value.code == "INVALID_CURSOR"


def test_encode_decode_round_trip() -> None:
    # Given a start key / When encoded and decoded again
    page_cursor = cursor.encode(START_KEY)
    decoded = cursor.decode(page_cursor, tenant_a_only, KEY_NAMES)
    # Then it is the same key, in DynamoDB's attribute-value shape
    assert decoded == {name: {"S": value} for name, value in START_KEY.items()}


def test_encoded_cursor_is_url_safe_and_unpadded() -> None:
    # Characters that would be "+", "/" in standard base64 and padding both appear for this key
    page_cursor = cursor.encode({"PK": "??>>~~", "SK": "ab"})
    assert not set(page_cursor) & {"+", "/", "="}
    assert cursor.decode(page_cursor, any_partition, KEY_NAMES) == {"PK": {"S": "??>>~~"}, "SK": {"S": "ab"}}


def test_encode_is_independent_of_key_order() -> None:
    assert cursor.encode({"PK": "a", "SK": "b"}) == cursor.encode({"SK": "b", "PK": "a"})


def test_round_trip_of_the_list_index_key_set() -> None:
    names = frozenset({"PK", "SK", "GSI1PK", "GSI1SK"})
    start = {"PK": "p", "SK": "s", "GSI1PK": "g", "GSI1SK": "ACTIVE#2026-01-01T00:00:00.000Z#df_1"}
    assert cursor.decode(cursor.encode(start), any_partition, names) == {k: {"S": v} for k, v in start.items()}


@pytest.mark.parametrize(
    "page_cursor",
    [
        pytest.param("", id="empty"),
        pytest.param("a", id="one-char"),
        pytest.param("!!!!", id="not-base64-alphabet"),
        pytest.param("%%%", id="percent-garbage"),
        pytest.param("é", id="non-ascii"),
        pytest.param(cursor.encode(START_KEY)[:-3], id="truncated"),
        pytest.param(b64(b"not json"), id="base64-of-text"),
        pytest.param(b64(b"\xff\xfe\xfd\xfc"), id="base64-of-binary"),
        pytest.param(b64(b'{"PK": "a", "SK": '), id="base64-of-broken-json"),
    ],
)
def test_garbage_is_an_invalid_cursor(page_cursor: str) -> None:
    assert_invalid(page_cursor)


@pytest.mark.parametrize(
    "value",
    [[START_KEY], "PK", 1, None, True],
    ids=["array", "string", "number", "null", "bool"],
)
def test_json_that_is_not_an_object_is_an_invalid_cursor(value: object) -> None:
    assert_invalid(b64(json.dumps(value).encode()))


@pytest.mark.parametrize(
    "start",
    [
        pytest.param({"PK": "a"}, id="missing-key"),
        pytest.param({"PK": "a", "SK": "b", "GSI1PK": "c"}, id="extra-key"),
        pytest.param({"pk": "a", "sk": "b"}, id="wrong-case"),
        pytest.param({}, id="empty-object"),
    ],
)
def test_wrong_key_set_is_an_invalid_cursor(start: dict[str, str]) -> None:
    assert_invalid(b64(json.dumps(start).encode()))


@pytest.mark.parametrize(
    "value",
    [1, None, True, ["a"], {"S": "a"}],
    ids=["number", "null", "bool", "array", "attribute-value"],
)
def test_non_string_value_is_an_invalid_cursor(value: object) -> None:
    assert_invalid(b64(json.dumps({"PK": "TENANT#tenant-a#FLOW#df_1", "SK": value}).encode()))


def test_cursor_of_another_partition_is_an_invalid_cursor() -> None:
    # Given a well-formed cursor issued for tenant-b
    other_tenant = cursor.encode({"PK": "TENANT#tenant-b#FLOW#df_1", "SK": "VERSION#0000000003"})
    assert cursor.decode(other_tenant, any_partition, KEY_NAMES)  # well formed on its own
    # When tenant-a's list checks it / Then it is refused like any tampered cursor
    assert_invalid(other_tenant, tenant_a_only)


def test_predicate_sees_the_plain_values() -> None:
    seen: list[dict[str, str]] = []

    def record(start: dict[str, str]) -> bool:
        seen.append(start)
        return True

    cursor.decode(cursor.encode(START_KEY), record, KEY_NAMES)
    assert seen == [START_KEY]
