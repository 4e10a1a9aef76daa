"""Cursor key values DynamoDB would refuse are a 400 here, not a 500 from DynamoDB."""

from __future__ import annotations

import pytest

from decision_flows.dal import cursor
from decision_flows.domain.errors import InvalidRequest

KEYS = frozenset({"PK", "SK"})


@pytest.mark.parametrize("value", ["", "x" * 1025])
def test_empty_or_oversized_key_values_are_refused(value: str) -> None:
    token = cursor.encode({"PK": "T#a#F#x", "SK": value})
    with pytest.raises(InvalidRequest):
        cursor.decode(token, lambda _: True, KEYS)


def test_a_key_value_of_1024_bytes_is_accepted() -> None:
    token = cursor.encode({"PK": "T#a#F#x", "SK": "x" * 1024})
    assert cursor.decode(token, lambda _: True, KEYS)["SK"] == {"S": "x" * 1024}
