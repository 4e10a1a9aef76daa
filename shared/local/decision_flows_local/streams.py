"""DynamoDB Streams to the consumer function, as Lambda's event source mapping does it, in-process.

Reading follows the Streams API's rules, whatever DynamoDB the run uses. Each poll lists the
stream's shards and, for every shard it has not finished, takes a fresh iterator
AFTER_SEQUENCE_NUMBER of the last record delivered from it (its checkpoint; a shard without one
starts at the mapping's StartingPosition, or at TRIM_HORIZON when it appeared after the poller
started), reads until it is caught up, and hands the records to the template's consumer in batches
of the mapping's BatchSize, moving the checkpoint after each batch. Iterators live for one poll, so
neither an expired iterator nor a store that replaced its table objects can strand the reader. A
child shard is read once its parent is finished (closed and read to its end); a checkpoint that
fell behind the trim horizon goes on from TRIM_HORIZON, and says what was lost.

When the handler reports ``batchItemFailures``, the batch is retried from the first failed record,
up to the mapping's MaximumRetryAttempts; then the records are logged and given up, where AWS would
send their positions to the on-failure queue. A poll that fails (the store unreachable, the handler
raising) delivers nothing past its checkpoint: it is logged once with its cause and retried with
backoff. ``status()`` says whether the consumer keeps up. The mapping's filter is not applied: the
consumer skips the records the filter would drop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from decision_flows_local import template
from decision_flows_local.gateway import LambdaContext

log = logging.getLogger("decision_flows_local.streams")
Record = dict[str, Any]
Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]
# Behind by more than this, or failing, is not keeping up: many polls' worth at the 0.2 s interval.
KEEPING_UP_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 5.0
# Re-acquiring an iterator within one shard's read (expired, trimmed) at most this often per poll.
_REACQUIRE_LIMIT = 3


class StreamLastError(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    at: str
    message: str


class StreamConsumerStatus(BaseModel):
    """The in-process stream consumer of a local run, as ``/api/v1/health`` reports it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    function: str = Field(description="The template function the records go to.")
    keeping_up: bool = Field(description=f"Not failing, and caught up within the last {KEEPING_UP_SECONDS:g} s.")
    lag_seconds: float = Field(description="Seconds since every record written before then had been delivered.")
    records_delivered: int
    records_given_up: int = Field(description="Records the consumer kept failing until its retries ran out.")
    consecutive_failures: int = Field(description="Polls failed in a row; 0 once one succeeds.")
    last_error: StreamLastError | None = Field(description="The latest failed poll, kept after a recovery.")


@dataclass
class _Shard:
    start: str  # where to begin without a checkpoint
    checkpoint: str | None = None  # sequence number of the last record delivered (or read)
    finished: bool = False  # closed, and read to its end
    parent: str | None = None


@dataclass
class _ShardRead:
    shard_id: str
    records: list[Record]
    closed: bool  # the shard has no more records, ever


@dataclass
class _Health:
    started_at: float
    caught_up_at: float | None = None
    records_delivered: int = 0
    records_given_up: int = 0
    consecutive_failures: int = 0
    last_error: StreamLastError | None = None
    logged_cause: str | None = field(default=None, repr=False)


class StreamPoller:
    def __init__(
        self,
        consumer: template.StreamConsumer,
        dynamodb: Any,
        streams: Any,
        lock: AbstractContextManager[Any] | None = None,
        forget: Callable[[str, int], None] | None = None,
        clock: Callable[[], float] = time.time,
        handler: Handler | None = None,
    ) -> None:
        self.consumer = consumer
        # The template's consumer function, unless a test hands records somewhere else.
        self._handler = handler
        # Told (table, last sequence number) after each delivery: the store may drop those records.
        self._forget = forget
        self._dynamodb = dynamodb
        self._streams = streams
        self._lock = lock or nullcontext()
        self._clock = clock
        self.table_name = template.table_names()[consumer.table]
        self.stream_arn = self._latest_stream_arn()
        self._shards: dict[str, _Shard] = {}
        self._listed_once = False
        self._health = _Health(started_at=clock())

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
            config=Config(account_id_endpoint_mode="disabled", retries={"mode": "standard", "max_attempts": 3}),
        )
        return cls(consumer, dynamodb, streams, lock, forget)

    # Reading and delivering

    def read(self) -> list[Record]:
        """Every record that arrived since the last read, oldest first, shaped as Lambda delivers them;
        they count as delivered (for tests that hand records to the consumer themselves)."""
        records: list[Record] = []
        with self._lock:
            for shard_read in self._fetch():
                records += shard_read.records
                self._commit(shard_read.shard_id, shard_read.records)
                self._finish_if_closed(shard_read)
        return records

    def deliver(self, records: list[Record] | None = None) -> list[Record]:
        """Hand ``records`` (by default, every new one) to the consumer; return those it gave up on."""
        if records is not None:
            return [failed for batch in self._batches(records) for failed in self._deliver_batch(batch)]
        given_up: list[Record] = []
        with self._lock:
            shard_reads = self._fetch()
        for shard_read in shard_reads:
            for batch in self._batches(shard_read.records):
                given_up += self._deliver_batch(batch)
                with self._lock:
                    self._commit(shard_read.shard_id, batch)
            self._finish_if_closed(shard_read)
        return given_up

    def poll(self) -> bool:
        """One poll as the background loop makes it; False when it failed (and was logged)."""
        started = self._clock()
        try:
            self.deliver()
        except Exception as error:  # keep serving: a failed poll is reported, then retried
            self._failed(error)
            return False
        if self._health.consecutive_failures:
            log.warning("stream poll recovered after %d failed attempts", self._health.consecutive_failures)
        self._health.consecutive_failures = 0
        self._health.logged_cause = None
        self._health.caught_up_at = started
        return True

    def run(self, stop: threading.Event, interval_seconds: float = 0.2) -> None:
        wait = interval_seconds
        while not stop.wait(wait):
            wait = interval_seconds if self.poll() else min(wait * 2, MAX_BACKOFF_SECONDS)

    def status(self) -> StreamConsumerStatus:
        health = self._health
        now = self._clock()
        lag = now - (health.caught_up_at if health.caught_up_at is not None else health.started_at)
        return StreamConsumerStatus(
            function=self.consumer.function,
            keeping_up=health.consecutive_failures == 0 and lag <= KEEPING_UP_SECONDS,
            lag_seconds=round(max(lag, 0.0), 3),
            records_delivered=health.records_delivered,
            records_given_up=health.records_given_up,
            consecutive_failures=health.consecutive_failures,
            last_error=health.last_error,
        )

    # Shards and iterators, by the Streams API's rules

    def _fetch(self) -> list[_ShardRead]:
        """Read every unfinished shard from its checkpoint to where it is caught up, parents first."""
        listed = self._list_shards()
        for shard in listed:
            start = "TRIM_HORIZON" if self._listed_once else self.consumer.starting_position
            self._shards.setdefault(shard["ShardId"], _Shard(start=start, parent=shard.get("ParentShardId")))
        self._listed_once = True
        reads = []
        for shard in listed:
            progress = self._shards[shard["ShardId"]]
            parent = self._shards.get(progress.parent) if progress.parent else None
            if progress.finished or (parent is not None and not parent.finished):
                continue
            reads.append(self._read_shard(shard["ShardId"], progress))
        return reads

    def _list_shards(self) -> list[dict[str, Any]]:
        try:
            return list(self._describe_shards())
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise
        # The stream is gone (its table was deleted or recreated): follow the table's current stream.
        self.stream_arn = self._latest_stream_arn()
        self._shards.clear()
        log.warning("stream: %s now has stream %s; reading it from its oldest record", self.table_name, self.stream_arn)
        return list(self._describe_shards())

    def _describe_shards(self) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**params)["StreamDescription"]
            yield from description["Shards"]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            params["ExclusiveStartShardId"] = last

    def _read_shard(self, shard_id: str, progress: _Shard) -> _ShardRead:
        records: list[Record] = []
        reacquired = 0
        iterator = self._iterator(shard_id, progress, progress.checkpoint)
        while iterator is not None:
            try:
                response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            except ClientError as error:
                if _code(error) not in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                    raise
                reacquired += 1
                if reacquired > _REACQUIRE_LIMIT:
                    raise
                last = _sequence(records[-1]) if records else progress.checkpoint
                iterator = self._iterator(shard_id, progress, last)
                continue
            page = response["Records"]
            records += [self._as_lambda_record(record) for record in page]
            iterator = response.get("NextShardIterator")
            if not page:
                break
        return _ShardRead(shard_id, records, closed=iterator is None)

    def _iterator(self, shard_id: str, progress: _Shard, after: str | None) -> str | None:
        """A fresh iterator just after ``after`` (or at the shard's start); None for a shard that is gone."""
        params: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if after is None:
            params["ShardIteratorType"] = progress.start
        else:
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        try:
            iterator: str = self._streams.get_shard_iterator(**params)["ShardIterator"]
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                progress.finished = True  # the shard expired: nothing more can be read from it
                return None
            if _code(error) != "TrimmedDataAccessException" or after is None:
                raise
            log.error(
                "stream: records of shard %s after %s were trimmed before the consumer had them;"
                " going on from the oldest record kept",
                shard_id,
                after,
            )
            iterator = self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        return iterator

    def _commit(self, shard_id: str, delivered: list[Record]) -> None:
        """Move the shard's checkpoint past ``delivered``; the store may then forget those records."""
        progress = self._shards.get(shard_id)
        if progress is None or not delivered:
            return
        progress.checkpoint = _sequence(delivered[-1])
        if self._forget is not None:
            self._forget(self.table_name, int(progress.checkpoint))

    def _finish_if_closed(self, shard_read: _ShardRead) -> None:
        if shard_read.closed and shard_read.shard_id in self._shards:
            self._shards[shard_read.shard_id].finished = True

    def _latest_stream_arn(self) -> str:
        arn: str = self._dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        return arn

    # Handing records to the consumer

    def _batches(self, records: list[Record]) -> Iterator[list[Record]]:
        for start in range(0, len(records), self.consumer.batch_size):
            yield records[start : start + self.consumer.batch_size]

    def _deliver_batch(self, batch: list[Record]) -> list[Record]:
        handler: Handler = self._handler or template.handler(self.consumer.function)
        attempts_left = self.consumer.maximum_retry_attempts
        size = len(batch)
        while batch:
            with self._lock:
                result = handler({"Records": batch}, LambdaContext())
            failed = {failure["itemIdentifier"] for failure in (result or {}).get("batchItemFailures", [])}
            if not failed:
                self._health.records_delivered += size
                return []
            first = min(i for i, record in enumerate(batch) if _sequence(record) in failed)
            batch = batch[first:]
            if attempts_left == 0:
                for record in batch:
                    log.error("stream record given up: %s %s", record["eventName"], record["dynamodb"]["Keys"])
                self._health.records_delivered += size - len(batch)
                self._health.records_given_up += len(batch)
                return batch
            attempts_left -= 1
        return []

    def _as_lambda_record(self, record: Record) -> Record:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": data, "eventSourceARN": self.stream_arn}

    def _failed(self, error: Exception) -> None:
        health = self._health
        health.consecutive_failures += 1
        cause = f"{type(error).__name__}: {error}"
        moment = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        health.last_error = StreamLastError(at=moment, message=cause)
        if cause != health.logged_cause:  # once per cause, not once per retry
            log.error("stream poll failed (retrying with backoff): %s", cause, exc_info=error)
            health.logged_cause = cause


def _sequence(record: Record) -> str:
    sequence: str = record["dynamodb"]["SequenceNumber"]
    return sequence


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code
