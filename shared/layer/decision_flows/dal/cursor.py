"""Opaque keyset cursors: a DynamoDB start key, base64url-encoded, checked on the way back in.

A cursor is only accepted for the partition it was issued for, so a cursor of one tenant (or one
flow, or one status filter) can never steer a query into another's items, and a tampered cursor
is a clean 400 instead of a DynamoDB validation error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping

from decision_flows.domain.errors import InvalidRequest

StartKey = dict[str, dict[str, str]]


def encode(start_key: Mapping[str, str]) -> str:
    raw = json.dumps(dict(start_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, expected: Callable[[dict[str, str]], bool], key_names: frozenset[str]) -> StartKey:
    """Turn a cursor back into an ExclusiveStartKey, or raise 400 INVALID_CURSOR."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise _invalid() from None
    if (
        not isinstance(plain, dict)
        or set(plain) != key_names
        # DynamoDB refuses empty key values and sort keys over 1024 bytes: refuse them here, as a 400.
        or not all(
            isinstance(value, str) and 0 < len(value.encode(errors="replace")) <= 1024 for value in plain.values()
        )
        or not expected(plain)
    ):
        raise _invalid()
    return {name: {"S": value} for name, value in plain.items()}


def _invalid() -> InvalidRequest:
    return InvalidRequest("INVALID_CURSOR", "The cursor is not one this list handed out; start again without it.")
