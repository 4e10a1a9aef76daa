"""Variables of the environment read without pydantic, for the authorizer's cold start.

``settings`` validates an API function's whole environment with pydantic. The authorizer runs
before every uncached request and loads no pydantic, so it reads the one table it uses from here,
by the same rule, at init: a missing or malformed name still fails its cold start.
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
