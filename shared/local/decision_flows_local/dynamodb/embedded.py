"""The DynamoDB a local run talks to: an embedded in-memory one (moto) by default, or the endpoint
``DYNAMODB_ENDPOINT_URL`` names. Tables come from template.yaml and are created when missing.

The embedded store's transactions are all or nothing without copying tables (moto_transactions), and
it refuses what DynamoDB refuses where moto does not (strict_dynamodb).
The tests and the benchmarks use the same embedded store: ``embedded_tables`` sets it up, and
``drop_stream_records`` keeps its stream from growing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from decision_flows_local import template
from decision_flows_local.dynamodb import moto_transactions, strict_dynamodb


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
            install_rules()
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

    def after_stream_poll(self, table_name: str, delivered_through: int | None) -> None:
        """After each poll of the embedded stream: drop the records the consumer has had, and every
        iterator moto issued (it keeps them all; the poller takes fresh ones each poll), so that a
        long session's memory grows neither with its writes nor with its polls."""
        if delivered_through is not None:
            drop_stream_records(table_name, delivered_through)
        _streams_backend().shard_iterators.clear()

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


def install_rules() -> None:
    """The embedded store's behaviour beyond moto's: DynamoDB's transactions and refusals."""
    moto_transactions.install()
    strict_dynamodb.install()


@contextmanager
def embedded_tables() -> Iterator[Any]:
    """A fresh embedded DynamoDB with the template's tables, for the duration of the block; the
    handlers build their clients on it. Yields the client that created the tables. Needs fake
    credentials and a region in the environment, and no ``DYNAMODB_ENDPOINT_URL``."""
    from moto import mock_aws

    from decision_flows import wiring
    from decision_flows.dal.client import dynamodb_client

    install_rules()
    with mock_aws():
        # The handlers' cached clients and repositories belong to whatever store came before.
        wiring.reset()
        try:
            client = dynamodb_client()
            template.create_tables(client)
            yield client
        finally:
            wiring.reset()


def embedded_table(table_name: str) -> Any:
    """moto's own table behind the embedded store, for what the DynamoDB API cannot do."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables[table_name]


def _streams_backend() -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    return dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]


def drop_stream_records(table_name: str, through_sequence_number: int | None = None) -> None:
    """Drop the embedded table's stream records: those up to ``through_sequence_number``, or all.

    moto keeps every record (each with its item images) for as long as the process lives; DynamoDB
    keeps them 24 hours. Whoever has had the records drops them, so that memory does not grow with
    every write of a long session."""
    shard = embedded_table(table_name).stream_shard
    if shard is None:
        return
    if through_sequence_number is None:
        dropped = len(shard.items)
    else:
        dropped = through_sequence_number - shard.starting_sequence_number + 1
    if dropped > 0:
        # Sequence numbers are positions counted from the shard's start: move the start along, so
        # that a reader at TRIM_HORIZON or after the last record it had still finds the next one.
        del shard.items[:dropped]
        shard.starting_sequence_number += dropped
