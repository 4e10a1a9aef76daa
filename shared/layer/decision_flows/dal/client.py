"""The DynamoDB client, created on first use.

Created lazily rather than at import so that importing a handler costs no client setup, and so
tests (moto) and the local server can point it elsewhere before the first call.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient


class EndpointSettings(BaseModel):
    """Which DynamoDB to talk to: AWS's regional endpoint, or (local runs) another one."""

    model_config = ConfigDict(frozen=True)

    endpoint_url: str | None = Field(default=None, validation_alias="DYNAMODB_ENDPOINT_URL")

    @field_validator("endpoint_url")
    @classmethod
    def _empty_means_aws(cls, value: str | None) -> str | None:
        return value or None


@cache
def _session() -> Session:
    """One botocore session per process, whose loader keeps the parsed service models: a client made
    again (tests and the local server switch stores) costs milliseconds, not a fresh parse. (boto3's
    default session would do, but moto swaps it out on every start.)"""
    import boto3

    return boto3.session.Session()


@cache
def dynamodb_client() -> DynamoDBClient:
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    endpoint = EndpointSettings.model_validate(os.environ).endpoint_url
    return _session().client("dynamodb", endpoint_url=endpoint, config=config)
