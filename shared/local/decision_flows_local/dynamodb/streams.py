"""DynamoDB Streams to the consumer function, as Lambda's event source mapping does it, in-process.

Reading follows the Streams API's rules, whatever DynamoDB the run uses. Each poll asks the table
for its current stream (a table deleted and created again has a new one, read from its start),
lists the stream's shards and reads every shard it has not finished, a page at a time, from a fresh
iterator: AFTER_SEQUENCE_NUMBER of the last record delivered from it (its checkpoint), or, before
its first record, TRIM_HORIZON (the mapping's StartingPosition for the shards there at start;
LATEST becomes a checkpoint at the last record the shard then holds). Each page goes to the
template's consumer in batches of the mapping's BatchSize, and the checkpoint moves after each
batch. No iterator is kept from one poll to the next, so neither an expired iterator nor a store
that replaced its table objects (moto does, when it cancels a transaction) can strand the reader
or show it a cancelled write. A child shard is read once its parent is finished (closed and read to
its end); a checkpoint that fell behind the trim horizon goes on from TRIM_HORIZON and says what was
lost. The requests' lock is taken per call, never for a whole backlog.

When the handler reports ``batchItemFailures``, the batch is retried from the first failed record;
when it raises, the poll fails and the batch comes again at the next one. Either way, after the
mapping's MaximumRetryAttempts the records are logged and given up, where AWS would send their
positions to the on-failure queue. A failed poll is logged once per cause and retried with backoff;
``status()`` says whether the consumer keeps up. The mapping's filter is not applied: the consumer
skips the records the filter would drop.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from decision_flows_local import template
from decision_flows_local.api.gateway import LambdaContext
from decision_flows_local.dynamodb.stream_health import ConsumerHealth, StreamConsumerStatus, log

Record = dict[str, Any]
Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]
# Told after every poll (table, last sequence number delivered in the poll or None): the store may
# drop what was delivered, and every iterator (the poller keeps none from one poll to the next).
AfterPoll = Callable[[str, int | None], None]
MAX_BACKOFF_SECONDS = 5.0
# Before a shard's first record, empty pages followed within one poll ("it might take multiple calls
# to get to a portion of the shard that contains stream records", GetRecords' documentation).
_EMPTY_PAGES_BEFORE_FIRST_RECORD = 4


@dataclass
class _Shard:
    start: str  # where to begin without a checkpoint
    parent: str | None = None
    checkpoint: str | None = None  # sequence number of the last record delivered (or read)
    finished: bool = False  # closed, and read to its end
    failed_invocations: int = 0  # of the batch after the checkpoint, by a handler that raised


class StreamPoller:
    def __init__(
        self,
        consumer: template.StreamConsumer,
        dynamodb: Any,
        streams: Any,
        lock: AbstractContextManager[Any] | None = None,
        after_poll: AfterPoll | None = None,
        clock: Callable[[], float] = time.time,
        handler: Handler | None = None,
    ) -> None:
        self.consumer = consumer
        # The template's consumer function, unless a test hands records somewhere else.
        self._handler = handler
        self._after_poll = after_poll
        self._dynamodb = dynamodb
        self._streams = streams
        self._lock = lock or nullcontext()
        self._clock = clock
        self.table_name = template.table_names()[consumer.table]
        self.stream_arn = self._latest_stream_arn()
        self._shards: dict[str, _Shard] = {}
        self._listed_once = False
        self._health = ConsumerHealth(started_at=clock())

    @classmethod
    def for_template(
        cls, dynamodb: Any, lock: AbstractContextManager[Any] | None = None, after_poll: AfterPoll | None = None
    ) -> StreamPoller:
        """The poller of the template's one stream consumer, reading with a client like ``dynamodb``'s."""
        import boto3
        from botocore.config import Config

        (consumer,) = template.stream_consumers()
        streams = boto3.client(
            "dynamodbstreams",
            endpoint_url=dynamodb.meta.endpoint_url if "amazonaws.com" not in dynamodb.meta.endpoint_url else None,
            region_name=dynamodb.meta.region_name,
            config=Config(
                # botocore >= 1.44.4 sends stream calls to an account endpoint that moto does not serve.
                account_id_endpoint_mode="disabled",
                retries={"mode": "standard", "max_attempts": 3},
                # Calls are made under the requests' lock: a store that hangs must not hold it for minutes.
                connect_timeout=2,
                read_timeout=5,
            ),
        )
        return cls(consumer, dynamodb, streams, lock, after_poll)

    # Reading and delivering

    def read(self) -> list[Record]:
        """Every record that arrived since the last read, oldest first, shaped as Lambda delivers them;
        they count as delivered (for tests that hand records to the consumer themselves)."""
        records: list[Record] = []
        for shard_id, page in self._pages():
            records += page
            self._commit(shard_id, page)
        return records

    def deliver(self, records: list[Record] | None = None) -> list[Record]:
        """Hand ``records`` (by default, every new one) to the consumer; return those it gave up on."""
        if records is not None:
            return [failed for batch in self._batches(records) for failed in self._deliver_batch(batch)]
        given_up: list[Record] = []
        delivered_through: int | None = None
        try:
            for shard_id, page in self._pages():
                for batch in self._batches(page):
                    given_up += self._invoke(shard_id, batch)
                    self._commit(shard_id, batch)
                    delivered_through = int(_sequence(batch[-1]))
        finally:
            if self._after_poll is not None:
                with self._lock:
                    self._after_poll(self.table_name, delivered_through)
        return given_up

    def poll(self) -> bool:
        """One poll as the background loop makes it; False when it failed (and was logged)."""
        started = self._clock()
        try:
            self.deliver()
        except Exception as error:  # keep serving: a failed poll is reported, then retried
            self._health.failed(error, self._clock())
            return False
        self._health.succeeded(started)
        return True

    def run(self, stop: threading.Event, interval_seconds: float = 0.2) -> None:
        wait = interval_seconds
        while not stop.wait(wait):
            wait = interval_seconds if self.poll() else min(wait * 2, MAX_BACKOFF_SECONDS)

    def status(self) -> StreamConsumerStatus:
        return self._health.status(self.consumer.function, self._clock())

    # Shards and iterators, by the Streams API's rules

    def _pages(self) -> Iterator[tuple[str, list[Record]]]:
        """(shard, records) pages from every unfinished shard, parents before their children; the
        caller delivers and commits each page before the next is read."""
        with self._lock:
            listed = self._list_shards()
        for shard_id in listed:
            progress = self._shards[shard_id]
            parent = self._shards.get(progress.parent) if progress.parent else None
            if progress.finished or (parent is not None and not parent.finished):
                continue
            yield from self._shard_pages(shard_id, progress)

    def _list_shards(self) -> list[str]:
        latest = self._latest_stream_arn()
        if latest != self.stream_arn:
            log.warning("stream: %s has a new stream %s; reading it from its oldest record", self.table_name, latest)
            self.stream_arn, self._listed_once = latest, True
            self._shards.clear()
        listed: list[str] = []
        params: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**params)["StreamDescription"]
            for shard in description["Shards"]:
                start = "TRIM_HORIZON" if self._listed_once else self.consumer.starting_position
                self._shards.setdefault(shard["ShardId"], _Shard(start=start, parent=shard.get("ParentShardId")))
                listed.append(shard["ShardId"])
            if not description.get("LastEvaluatedShardId"):
                break
            params["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
        self._listed_once = True
        return listed

    def _shard_pages(self, shard_id: str, progress: _Shard) -> Iterator[tuple[str, list[Record]]]:
        while True:
            with self._lock:
                if progress.start == "LATEST":
                    self._skip_to_the_tip(shard_id, progress)
                page, closed = self._next_page(shard_id, progress)
            if page:
                yield shard_id, page  # delivered and committed before the next page is read
            if closed:
                progress.finished = True  # and every record of it delivered
            if closed or not page:
                return

    def _next_page(self, shard_id: str, progress: _Shard) -> tuple[list[Record], bool]:
        """The records after the checkpoint, and whether the shard is closed and read to its end.

        The iterator is taken and used within one hold of the lock: a store that replaces its table
        objects between two requests (moto, when it cancels a transaction) would leave an iterator
        kept across requests on a detached copy, holding the cancelled write's records."""
        iterator = self._iterator(shard_id, progress)
        empty_pages, retried = 0, False
        while iterator is not None:
            try:
                response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            except ClientError as error:  # trimmed meanwhile: _iterator says so and starts again
                if retried or _code(error) not in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                    raise
                retried, iterator = True, self._iterator(shard_id, progress)
                continue
            page = [self._as_lambda_record(record) for record in response["Records"]]
            iterator = response.get("NextShardIterator")
            empty_pages += not page
            if page or progress.checkpoint is not None or empty_pages > _EMPTY_PAGES_BEFORE_FIRST_RECORD:
                return page, iterator is None
        return [], True

    def _skip_to_the_tip(self, shard_id: str, progress: _Shard) -> None:
        """LATEST as a checkpoint: the last record the shard holds now, so that nothing written from
        here on is missed between polls (a LATEST iterator taken each poll would skip those)."""
        iterator: str | None = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator is not None:
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            if not response["Records"]:
                break
            progress.checkpoint = response["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = response.get("NextShardIterator")
        progress.start = "TRIM_HORIZON"

    def _iterator(self, shard_id: str, progress: _Shard) -> str | None:
        """A fresh iterator after the checkpoint (or at the shard's start); None for a shard that is gone."""
        params: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if progress.checkpoint is None:
            params["ShardIteratorType"] = progress.start
        else:
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=progress.checkpoint)
        try:
            iterator: str = self._streams.get_shard_iterator(**params)["ShardIterator"]
            return iterator
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                progress.finished = True  # the shard expired: nothing more can be read from it
                return None
            if _code(error) != "TrimmedDataAccessException" or progress.checkpoint is None:
                raise
        log.error(
            "stream: records of shard %s after %s were trimmed before the consumer had them;"
            " going on from the oldest record kept",
            shard_id,
            progress.checkpoint,
        )
        progress.checkpoint, progress.start = None, "TRIM_HORIZON"
        return self._iterator(shard_id, progress)

    def _commit(self, shard_id: str, delivered: list[Record]) -> None:
        with self._lock:
            self._shards[shard_id].checkpoint = _sequence(delivered[-1])

    def _latest_stream_arn(self) -> str:
        arn: str = self._dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        return arn

    # Handing records to the consumer

    def _batches(self, records: list[Record]) -> Iterator[list[Record]]:
        for start in range(0, len(records), self.consumer.batch_size):
            yield records[start : start + self.consumer.batch_size]

    def _invoke(self, shard_id: str, batch: list[Record]) -> list[Record]:
        """Deliver a batch of the shard's; a handler that raises fails the poll, and after the
        mapping's retries its batch is given up (Lambda counts function errors as retries too)."""
        progress = self._shards[shard_id]
        retries = self.consumer.maximum_retry_attempts
        try:
            given_up = self._deliver_batch(batch)
        except Exception as error:
            progress.failed_invocations += 1
            if progress.failed_invocations <= (retries if retries >= 0 else math.inf):
                raise
            log.error("stream batch given up after %d failed invocations: %s", progress.failed_invocations, error)
            given_up = self._give_up(batch)
        progress.failed_invocations = 0
        return given_up

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
            self._health.records_delivered += first
            size -= first
            batch = batch[first:]
            if attempts_left == 0:
                return self._give_up(batch)
            attempts_left -= 1
        return []

    def _give_up(self, batch: list[Record]) -> list[Record]:
        for record in batch:
            log.error("stream record given up: %s %s", record["eventName"], record["dynamodb"]["Keys"])
        self._health.records_given_up += len(batch)
        return batch

    def _as_lambda_record(self, record: Record) -> Record:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": data, "eventSourceARN": self.stream_arn}


def _sequence(record: Record) -> str:
    sequence: str = record["dynamodb"]["SequenceNumber"]
    return sequence


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code
