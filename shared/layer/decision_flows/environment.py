"""Variables of the environment, read by one rule each: a missing or malformed one is a ValueError
naming it, raised at init (``settings``, ``runtime_wiring``, the authorizer), so that it fails the
function's cold start rather than some later request. No pydantic: each costs every cold start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# DynamoDB's rule for table names.
TABLE_NAME_CHARACTERS = r"^[A-Za-z0-9_.-]+$"
TABLE_NAME_LENGTHS = range(3, 256)


def table_name(variable: str, environment: Mapping[str, str] = os.environ) -> str:
    value = environment.get(variable, "")
    if len(value) not in TABLE_NAME_LENGTHS or re.fullmatch(TABLE_NAME_CHARACTERS, value) is None:
        raise ValueError(f"{variable} must name a DynamoDB table: 3 to 255 letters, digits, '_', '-' or '.'")
    return value


def whole_number(variable: str, environment: Mapping[str, str], default: int) -> int:
    """A count of 0 or more; ``default`` when unset or empty."""
    value = environment.get(variable, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{variable} must be a whole number, 0 or more, not {value!r}")
    return int(value)
