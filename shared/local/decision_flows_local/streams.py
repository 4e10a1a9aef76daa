"""DynamoDB Streams to the consumer function, as Lambda's event source mapping does it, in-process.

The poller reads the table's stream shards (real records, from whatever DynamoDB the run uses),
hands them to the template's consumer handler in batches of the mapping's BatchSize, and, when the
handler reports ``batchItemFailures``, retries from the first failed record on, up to the
mapping's MaximumRetryAttempts; then it logs the records it gives up on, where AWS would send
their positions to the on-failure queue. The mapping's filter is not applied: the consumer skips
the records the filter would drop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from decision_flows_local import template
from decision_flows_local.gateway import LambdaContext

log = logging.getLogger("decision_flows_local.streams")
Record = dict[str, Any]


class StreamPoller:
    def __init__(
        self,
        consumer: template.StreamConsumer,
        dynamodb: Any,
        streams: Any,
        lock: AbstractContextManager[Any] | None = None,
        forget: Callable[[str, int], None] | None = None,
    ) -> None:
        self.consumer = consumer
        # Told (table, last sequence number) after each delivery: the store may drop those records.
        self._forget = forget
        self._streams = streams
        self._lock = lock or nullcontext()
        self.table_name = template.table_names()[consumer.table]
        self.stream_arn: str = dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}

    @classmethod
    def for_template(
        cls,
        dynamodb: Any,
        lock: AbstractContextManager[Any] | None = None,
        forget: Callable[[str, int], None] | None = None,
    ) -> StreamPoller:
        """The poller of the template's one stream consumer, reading with a client like ``dynamodb``'s."""
        import boto3
        from botocore.config import Config

        (consumer,) = template.stream_consumers()
        streams = boto3.client(
            "dynamodbstreams",
            endpoint_url=dynamodb.meta.endpoint_url if "amazonaws.com" not in dynamodb.meta.endpoint_url else None,
            region_name=dynamodb.meta.region_name,
            # botocore >= 1.44.4 sends stream calls to an account endpoint that moto does not serve.
            config=Config(account_id_endpoint_mode="disabled"),
        )
        return cls(consumer, dynamodb, streams, lock, forget)

    def read(self) -> list[Record]:
        """Every record that arrived since the last read, oldest first, shaped as Lambda delivers them."""
        records: list[Record] = []
        with self._lock:
            shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                shard_id = shard["ShardId"]
                if shard_id not in self._iterators:
                    self._iterators[shard_id] = self._streams.get_shard_iterator(
                        StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.consumer.starting_position
                    )["ShardIterator"]
                iterator = self._iterators[shard_id]
                while iterator:
                    response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                    records += [self._as_lambda_record(record) for record in response["Records"]]
                    next_iterator = response.get("NextShardIterator")
                    if not response["Records"] or next_iterator is None:
                        iterator = next_iterator
                        break
                    iterator = next_iterator
                self._iterators[shard_id] = iterator
        return records

    def deliver(self, records: list[Record] | None = None) -> list[Record]:
        """Hand ``records`` (by default, every new one) to the consumer; return those it gave up on."""
        pending = self.read() if records is None else records
        given_up: list[Record] = []
        for start in range(0, len(pending), self.consumer.batch_size):
            given_up += self._deliver_batch(pending[start : start + self.consumer.batch_size])
        if self._forget is not None and pending:
            with self._lock:
                last = max(int(record["dynamodb"]["SequenceNumber"]) for record in pending)
                self._forget(self.table_name, last)
        return given_up

    def run(self, stop: threading.Event, interval_seconds: float = 0.2) -> None:
        while not stop.wait(interval_seconds):
            try:
                self.deliver()
            except Exception:  # keep serving: a broken poll must not stop the local API
                log.exception("stream poll failed")

    def _deliver_batch(self, batch: list[Record]) -> list[Record]:
        handler: Callable[[dict[str, Any], Any], dict[str, Any]] = template.handler(self.consumer.function)
        attempts_left = self.consumer.maximum_retry_attempts
        while batch:
            with self._lock:
                result = handler({"Records": batch}, LambdaContext())
            failed = {failure["itemIdentifier"] for failure in (result or {}).get("batchItemFailures", [])}
            if not failed:
                return []
            first = min(i for i, record in enumerate(batch) if record["dynamodb"]["SequenceNumber"] in failed)
            batch = batch[first:]
            if attempts_left == 0:
                for record in batch:
                    log.error("stream record given up: %s %s", record["eventName"], record["dynamodb"]["Keys"])
                return batch
            attempts_left -= 1
        return []

    def _as_lambda_record(self, record: Record) -> Record:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": data, "eventSourceARN": self.stream_arn}
