"""What the benchmarks share: the fake AWS environment the functions run in, and the tenant, region
and API path. The in-process store itself is decision_flows_local.dynamodb.embedded's, as in the tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from decision_flows_local import template
from decision_flows_local.api.gateway import Api

TENANT = "tenant-bench"
REGION = "us-east-1"
BASE = Api.BASE
# In-process moto takes no endpoint; a moto server's endpoint is added by whoever starts it.
ENDPOINT = "DYNAMODB_ENDPOINT_URL"


def fake_aws_environment() -> dict[str, str]:
    """What the functions see in every benchmark: fake credentials, the region, the template's
    variables (its empty DynamoDB endpoint left out)."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": REGION,
        # botocore >= 1.44.4 sends stream calls to an account endpoint moto does not serve.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **{name: value for name, value in template.function_environment().items() if name != ENDPOINT},
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with ``values`` set, as it was again after the block. No AWS profile (one this
    machine lacks fails every client) and no DynamoDB endpoint unless ``values`` gives one."""
    saved = dict(os.environ)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop(ENDPOINT, None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def free_port() -> int:
    """A loopback port nothing listens on now (for the moto server the cold-start probes call)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
