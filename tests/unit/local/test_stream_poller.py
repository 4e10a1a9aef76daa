"""The local stream poller reads by the DynamoDB Streams API's rules, whatever the store does.

The store here is a fake that answers as the Streams API documents it: iterators that expire,
records trimmed away, shards that close and have children, a stream that is replaced. The poller
must deliver every record once, in order, and report how it is doing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from decision_flows_local import template
from decision_flows_local.dynamodb.streams import MAX_BACKOFF_SECONDS, StreamPoller

CONSUMER = template.stream_consumers()[0]


def error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"fake {code}"}}, operation)


@dataclass
class FakeShard:
    shard_id: str
    parent: str | None = None
    sequences: list[int] = field(default_factory=list)
    trimmed_through: int = 0  # records up to this sequence number are gone
    closed: bool = False
    empty_stretch: int = 0  # empty pages a read from the horizon meets before the first records


@dataclass
class FakeStreams:
    """The Streams API over shards held here; iterators are positions, and may be made to expire."""

    arn: str = "arn:stream/1"
    shards: list[FakeShard] = field(default_factory=list)
    # token -> (arn, shard, next index, empty pages still ahead of it)
    iterators: dict[str, tuple[str, str, int, int]] = field(default_factory=dict)
    expired: set[str] = field(default_factory=set)
    failures: list[Exception] = field(default_factory=list)  # raised by the next calls, one each
    iterator_requests: list[dict[str, Any]] = field(default_factory=list)
    expire_after_each_page: bool = False  # as if each page took the 15 minutes an iterator lives

    def shard(self, shard_id: str) -> FakeShard:
        return next(shard for shard in self.shards if shard.shard_id == shard_id)

    def write(self, shard_id: str, count: int = 1) -> list[int]:
        shard = self.shard(shard_id)
        last = max((s.sequences[-1] for s in self.shards if s.sequences), default=100)
        new = list(range(last + 1, last + 1 + count))
        shard.sequences += new
        return new

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:  # noqa: N803 (the API's names)
        self._maybe_fail()
        if StreamArn != self.arn:
            raise error("ResourceNotFoundException", "DescribeStream")
        shards = [{"ShardId": s.shard_id, **({"ParentShardId": s.parent} if s.parent else {})} for s in self.shards]
        return {"StreamDescription": {"StreamArn": self.arn, "Shards": shards}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, **rest: Any) -> dict[str, Any]:  # noqa: N803
        self._maybe_fail()
        self.iterator_requests.append({"ShardId": ShardId, "ShardIteratorType": ShardIteratorType, **rest})
        shard = self.shard(ShardId)
        kept = [s for s in shard.sequences if s > shard.trimmed_through]
        stretch = 0
        if ShardIteratorType == "TRIM_HORIZON":
            index = shard.sequences.index(kept[0]) if kept else len(shard.sequences)
            stretch = shard.empty_stretch
        elif ShardIteratorType == "LATEST":
            index = len(shard.sequences)
        else:
            after = int(rest["SequenceNumber"])
            if after < shard.trimmed_through:
                raise error("TrimmedDataAccessException", "GetShardIterator")
            index = next((i for i, s in enumerate(shard.sequences) if s > after), len(shard.sequences))
        token = f"it-{len(self.iterators)}"
        self.iterators[token] = (StreamArn, ShardId, index, stretch)
        return {"ShardIterator": token}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        self._maybe_fail()
        if ShardIterator in self.expired:
            raise error("ExpiredIteratorException", "GetRecords")
        _, shard_id, index, stretch = self.iterators[ShardIterator]
        shard = self.shard(shard_id)
        if stretch:  # "it might take multiple calls to get to a portion of the shard that contains records"
            token = f"it-{len(self.iterators)}"
            self.iterators[token] = (self.arn, shard_id, index, stretch - 1)
            return {"Records": [], "NextShardIterator": token}
        page = shard.sequences[index : index + min(Limit, 2)]  # small pages: reads take several calls
        records = [
            {"eventID": str(s), "eventName": "MODIFY", "dynamodb": {"SequenceNumber": str(s), "Keys": {}}} for s in page
        ]
        token = f"it-{len(self.iterators)}"
        self.iterators[token] = (self.arn, shard_id, index + len(page), 0)
        at_end = index + len(page) >= len(shard.sequences)
        if self.expire_after_each_page:
            self.expired |= set(self.iterators)
        return {"Records": records, **({} if shard.closed and at_end else {"NextShardIterator": token})}


@dataclass
class FakeTable:
    streams: FakeStreams

    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803
        return {"Table": {"LatestStreamArn": self.streams.arn}}


@dataclass
class Consumer:
    batches: list[list[int]] = field(default_factory=list)
    raise_next: int = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.raise_next:
            self.raise_next -= 1
            raise RuntimeError("consumer crashed")
        self.batches.append([int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]])
        return {"batchItemFailures": []}

    @property
    def delivered(self) -> list[int]:
        return [sequence for batch in self.batches for sequence in batch]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def streams() -> FakeStreams:
    return FakeStreams(shards=[FakeShard("shard-1")])


@pytest.fixture
def consumer() -> Consumer:
    return Consumer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def poller(streams: FakeStreams, consumer: Consumer, clock: Clock) -> StreamPoller:
    return StreamPoller(CONSUMER, FakeTable(streams), streams, clock=clock, handler=consumer)


def test_each_poll_reads_on_from_the_last_record_delivered(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer
) -> None:
    # Given records before the first poll and more after it
    first = streams.write("shard-1", 3)
    assert poller.poll()
    later = streams.write("shard-1", 2)

    # When the poller polls again
    requests_before = len(streams.iterator_requests)
    assert poller.poll()

    # Then every record came once, in order, and the second poll asked for an iterator after the first's last
    assert consumer.delivered == first + later
    assert streams.iterator_requests[requests_before] == {
        "ShardId": "shard-1",
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
        "SequenceNumber": str(first[-1]),
    }


def test_an_iterator_that_expires_mid_read_is_taken_again_after_the_last_record_read(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer
) -> None:
    # Given five records, read two at a time, and iterators that expire after the first page
    written = streams.write("shard-1", 5)
    streams.expire_after_each_page = True

    # When it polls
    assert poller.poll()

    # Then nothing was lost or repeated
    assert consumer.delivered == written


def test_records_trimmed_before_delivery_are_reported_and_reading_goes_on_from_the_oldest_kept(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a first record delivered, and then the stream trimmed past its successors (24 h on AWS)
    streams.write("shard-1", 1)
    assert poller.poll()
    lost = streams.write("shard-1", 2)
    streams.shard("shard-1").trimmed_through = lost[-1]
    kept = streams.write("shard-1", 2)

    # When it polls
    assert poller.poll()

    # Then it says what was lost, and delivers what is left
    assert consumer.delivered[-2:] == kept
    assert not set(lost) & set(consumer.delivered)
    assert "trimmed before the consumer had them" in caplog.text


def test_a_child_shard_is_read_after_its_parent_is_finished(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer
) -> None:
    # Given a parent shard with records, which then closes and has a child with records of its own
    parent_records = streams.write("shard-1", 3)
    streams.shard("shard-1").closed = True
    streams.shards.append(FakeShard("shard-2", parent="shard-1"))
    child_records = streams.write("shard-2", 3)
    # (listed child first, as nothing promises an order)
    streams.shards.reverse()

    # When it polls until both are read
    for _ in range(3):
        assert poller.poll()

    # Then the parent's records all came before the child's, once each, and the child started at its horizon
    assert consumer.delivered == parent_records + child_records
    first_child_request = next(r for r in streams.iterator_requests if r["ShardId"] == "shard-2")
    assert first_child_request["ShardIteratorType"] == "TRIM_HORIZON"


def test_a_shard_that_appears_later_is_read_from_its_start(
    streams: FakeStreams, consumer: Consumer, clock: Clock
) -> None:
    # Given a poller whose mapping starts at LATEST, already polling
    latest = template.StreamConsumer(CONSUMER.function, CONSUMER.table, 25, 10, "LATEST")
    poller = StreamPoller(latest, FakeTable(streams), streams, clock=clock, handler=consumer)
    streams.write("shard-1", 2)
    assert poller.poll()
    assert consumer.delivered == []

    # When records come to the first shard between polls, and a new shard appears with records
    between = streams.write("shard-1", 2)
    streams.shards.append(FakeShard("shard-9"))
    new = streams.write("shard-9", 2)
    assert poller.poll()

    # Then none of them is skipped
    assert consumer.delivered == between + new


def test_an_empty_stretch_before_the_first_records_is_crossed(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer
) -> None:
    # Given a shard whose reads from the horizon meet three empty pages before its records
    streams.shard("shard-1").empty_stretch = 3
    written = streams.write("shard-1", 2)

    # When the poller polls
    assert poller.poll()

    # Then it followed the empty pages to the records
    assert consumer.delivered == written


def test_a_replaced_stream_is_followed(poller: StreamPoller, streams: FakeStreams, consumer: Consumer) -> None:
    # Given a poller that has read the table's stream
    streams.write("shard-1", 1)
    assert poller.poll()

    # When the table gets a new stream (deleted and created again), with records
    streams.arn = "arn:stream/2"
    streams.shards = [FakeShard("shard-new")]
    new = streams.write("shard-new", 2)
    assert poller.poll()

    # Then the poller reads the new stream
    assert consumer.delivered[-2:] == new
    assert poller.stream_arn == "arn:stream/2"


def test_failing_polls_are_logged_once_retried_and_reported_until_they_recover(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a record waiting, and a store that cannot be reached for three polls
    written = streams.write("shard-1", 2)
    streams.failures = [EndpointConnectionError(endpoint_url="http://127.0.0.1:1")] * 3

    # When the poller polls three times, ten seconds apart
    for _ in range(3):
        clock.now += 10
        assert not poller.poll()

    # Then the cause was logged once, and health says the consumer is not keeping up, and why
    failures = [r for r in caplog.records if "stream poll failed" in r.getMessage()]
    assert len(failures) == 1
    assert "Could not connect to the endpoint URL" in failures[0].getMessage()
    status = poller.status()
    assert (status.keeping_up, status.consecutive_failures, status.records_delivered) == (False, 3, 0)
    assert status.last_error is not None
    assert "EndpointConnectionError" in status.last_error.message
    assert status.lag_seconds >= 30

    # And when the store answers again, the records arrive once, and health recovers
    clock.now += 1
    assert poller.poll()
    assert consumer.delivered == written
    status = poller.status()
    assert (status.keeping_up, status.consecutive_failures, status.records_delivered) == (True, 0, 2)
    assert status.lag_seconds == 0
    assert "recovered after 3 failed attempts" in caplog.text


def test_a_consumer_that_raises_gets_the_same_records_again_on_the_next_poll(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given records, and a consumer that crashes on its first call
    written = streams.write("shard-1", 3)
    consumer.raise_next = 1

    # When it polls twice
    assert not poller.poll()
    assert poller.poll()

    # Then the records came through after the crash, each once
    assert consumer.delivered == written
    assert "consumer crashed" in caplog.text


def test_a_batch_whose_consumer_keeps_raising_is_given_up_after_the_mappings_retries(
    poller: StreamPoller, streams: FakeStreams, consumer: Consumer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a record whose delivery always crashes the consumer, and one after it in a later batch
    doomed = streams.write("shard-1", 1)
    consumer.raise_next = CONSUMER.maximum_retry_attempts + 1

    # When the poller polls until the retries are spent, then once more after another write
    failed_polls = [poller.poll() for _ in range(CONSUMER.maximum_retry_attempts + 1)]
    later = streams.write("shard-1", 1)
    assert poller.poll()

    # Then each crash failed a poll until the batch was given up, as Lambda counts function errors,
    # and the stream went on past it
    assert failed_polls == [False] * CONSUMER.maximum_retry_attempts + [True]
    assert consumer.delivered == later
    assert poller.status().records_given_up == len(doomed)
    assert "stream batch given up after 11 failed invocations" in caplog.text


def test_the_poll_loop_backs_off_while_polls_fail(poller: StreamPoller, streams: FakeStreams) -> None:
    # Given a store that keeps failing
    streams.failures = [EndpointConnectionError(endpoint_url="http://127.0.0.1:1")] * 9
    waits: list[float] = []

    class Stop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            return len(waits) > 9

    # When the loop runs
    poller.run(Stop(), interval_seconds=0.2)

    # Then it waits twice as long after each failure, up to the cap, never hammering the store
    assert waits[:6] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, MAX_BACKOFF_SECONDS])
    assert waits[6:9] == [MAX_BACKOFF_SECONDS] * 3
