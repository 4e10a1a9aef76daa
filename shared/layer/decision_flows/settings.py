"""Every function's configuration: template.yaml's Globals environment, validated once.

Every table name and limit lives here, read from the environment in this one place. ``wiring``
validates it when a function's code is imported (Lambda's init phase), so a function deployed with
a missing or malformed variable fails its cold start, not some later request. The DynamoDB endpoint
(a local store) is the client's own setting (``dal.client``).
"""

import os
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from decision_flows.environment import TABLE_NAME_CHARACTERS, TABLE_NAME_LENGTHS

TableName = Annotated[
    str,
    Field(min_length=TABLE_NAME_LENGTHS.start, max_length=TABLE_NAME_LENGTHS.stop - 1, pattern=TABLE_NAME_CHARACTERS),
]
DEFAULT_REQUESTS_PER_MINUTE = 500


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    flows_table: TableName = Field(validation_alias="TABLE_NAME")
    idempotency_table: TableName = Field(validation_alias="IDEMPOTENCY_TABLE_NAME")
    api_keys_table: TableName = Field(validation_alias="API_KEYS_TABLE_NAME")
    rate_limit_table: TableName = Field(validation_alias="RATE_LIMIT_TABLE_NAME")
    changes_table: TableName = Field(validation_alias="CHANGES_TABLE_NAME")
    live_table: TableName = Field(validation_alias="LIVE_TABLE_NAME")
    # Per tenant and 60-second window; 0 turns the rate limit off.
    requests_per_minute: int = Field(
        default=DEFAULT_REQUESTS_PER_MINUTE, ge=0, validation_alias="RATE_LIMIT_PER_MINUTE"
    )


@cache
def settings() -> Settings:
    return Settings.model_validate(os.environ)
