"""The DynamoDB client, created on first use.

Created lazily rather than at import so that importing a handler costs no client setup, and so
tests (moto) and the local server can point it elsewhere before the first call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient as SchedulerClient


ENDPOINT_VARIABLE = "DYNAMODB_ENDPOINT_URL"


def endpoint_url(environment: Mapping[str, str]) -> str | None:
    """Which DynamoDB to talk to: AWS's regional endpoint (None; the template's empty value), or
    (local runs) the one the variable names. Read without pydantic: every function, the authorizer
    included, creates this client."""
    return environment.get(ENDPOINT_VARIABLE) or None


@cache
def _session() -> Session:
    """One botocore session per process, whose loader keeps the parsed service models: a client made
    again (tests and the local server switch stores) costs milliseconds, not a fresh parse. (boto3's
    default session would do, but moto swaps it out on every start.)"""
    import boto3

    return boto3.session.Session()


# A DynamoDB that does not answer must cost a request less than its function's Timeout, so that it
# becomes 503 STORE_BUSY and not the gateway's 500 for a timed-out Lambda: every attempt's connect
# and read, plus standard mode's backoff before each retry (at most 2**n s before the n-th), stay
# under it (tests/unit/test_settings.py holds this against every function of template.yaml).
# DynamoDB answers in milliseconds, so a second without a byte means the store is not answering.
# (botocore's `max_attempts` counts retries; `total_max_attempts` counts every attempt.)
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 1


def worst_case_seconds() -> float:
    """How long one call can take before it fails, when the store accepts no connection or never answers."""
    backoff = sum(1 << retry for retry in range(MAX_ATTEMPTS - 1))
    return MAX_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + backoff


def client_config() -> Config:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        tcp_keepalive=True,
    )


def scheduler_client() -> SchedulerClient:
    """EventBridge Scheduler's client, with the DynamoDB client's session, timeouts and retries: a
    scheduler that does not answer costs a request no more than a store that does not. Built by the
    adapter on its first call (wiring), so no function's init pays for it."""
    return _session().client("scheduler", config=client_config())


@cache
def dynamodb_client() -> DynamoDBClient:
    return _session().client("dynamodb", endpoint_url=endpoint_url(os.environ), config=client_config())
