"""The DynamoDB a local run talks to: an embedded in-memory one (moto) by default, or the endpoint
``DYNAMODB_ENDPOINT_URL`` names. Tables come from template.yaml and are created when missing."""

from __future__ import annotations

import os
from typing import Any

from decision_flows_local import template


class LocalStore:
    def __init__(self, endpoint_url: str | None) -> None:
        self.endpoint_url = endpoint_url or None
        self._mock: Any = None

    @property
    def description(self) -> str:
        return f"DynamoDB at {self.endpoint_url}" if self.endpoint_url else "embedded in-memory DynamoDB (moto)"

    def start(self) -> list[str]:
        """Start the store and create the template's missing tables; return the ones created."""
        if self.endpoint_url:
            os.environ["DYNAMODB_ENDPOINT_URL"] = self.endpoint_url
        else:
            from moto import mock_aws

            os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
            self._mock = mock_aws()
            self._mock.start()
        from decision_flows import wiring
        from decision_flows.dal.client import dynamodb_client

        wiring.reset()
        client = dynamodb_client()
        existing = frozenset(client.list_tables()["TableNames"])
        return template.create_tables(client, existing)

    @property
    def embedded(self) -> bool:
        return self._mock is not None

    def forget_stream_records(self, table_name: str, through_sequence_number: int) -> None:
        """Drop the embedded stream's records up to one the consumer has had. moto keeps every
        record and copies them all in each transaction, so without this a session's writes slowed
        down as it went on (≈2.7 ms more per record kept, bench/overhead.py)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables[table_name]
        shard = table.stream_shard
        delivered = through_sequence_number - shard.starting_sequence_number + 1 if shard else 0
        if shard and delivered > 0:
            # Sequence numbers are positions counted from the shard's start: move the start along.
            del shard.items[:delivered]
            shard.starting_sequence_number += delivered

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
