"""The overhead benchmark's store: one in-process moto DynamoDB with template.yaml's tables, set up
as tests/conftest.py sets it up, seeded through the real handlers, and put back after each write.

Why put back: a write that lands grows the store (a publish adds two items; every write adds a
stream record), and moto's TransactWriteItems deep-copies every table it touches, stream records
included, once per statement. Left to grow, later samples would pay for earlier ones. So after each
timed write the flow's items are restored untimed and the stream's records dropped: every sample of
a route, real or baseline, meets the same store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.support import environment, fake_aws_environment
from decision_flows_local import template
from decision_flows_local.gateway import Api, Caller
from decision_flows_local.store import drop_stream_records, embedded_tables
from tests.support.configs import v2_config

# Not bench.support's tenant: the overhead's figures were measured with this one, and its length is
# in every key the requests carry.
TENANT = "tenant-a"
# Every request still makes the rate limit's conditional UpdateItem; no run comes near this limit.
RATE_LIMIT_NO_RUN_REACHES = "1000000000"
# A pipeline of realistic size: a source, scoring, ranking and eight enrichment nodes (about 770 bytes).
ENRICHMENT_NODES = 8
MAIN_FLOW_VERSIONS = 25
OTHER_FLOWS = 9
# Sort-key prefixes of the items a flow's writes create once and never change.
WRITTEN_ONCE = ("VER#", "SNAP#")


@dataclass(frozen=True)
class Seeded:
    flow_id: str
    key: str
    versions: int


@contextmanager
def in_process_store() -> Iterator[Any]:
    """moto with the template's tables and the functions' environment (restored afterwards); yields
    the service's own DynamoDB client."""
    wanted = {**fake_aws_environment(), "RATE_LIMIT_PER_MINUTE": RATE_LIMIT_NO_RUN_REACHES}
    with environment(wanted), embedded_tables() as client:
        yield client


def seed(client: Any, caller: Caller) -> Seeded:
    """A flow with MAIN_FLOW_VERSIONS versions of a realistic config (each one edited, then published)
    and OTHER_FLOWS smaller ones for the list, through the real handlers; the stream consumer writes
    their history and live entries as it goes."""
    api = Api(caller)
    main = _created(api, "welcome-offers", "Welcome offers", v2_config("release-0", extra_nodes=ENRICHMENT_NODES))
    for release in range(1, MAIN_FLOW_VERSIONS + 1):
        if release > 1:
            _ok(api.update(id=main, draftConfig=v2_config(f"release-{release}", extra_nodes=ENRICHMENT_NODES)))
        _ok(api.publish(id=main, notes=f"release {release}"))
        consume_stream(client)
    for index in range(OTHER_FLOWS):
        other = _created(api, f"campaign-{index}", f"Campaign {index}", v2_config(f"campaign-{index}"))
        if index % 3:  # two in three published, the rest left as drafts
            _ok(api.publish(id=other))
        consume_stream(client)
    return Seeded(main, "welcome-offers", MAIN_FLOW_VERSIONS)


def consume_stream(client: Any) -> None:
    """Hand the stream's records to the consumer and drop them, as `make serve` does; a new poller
    starts at the trimmed shard's beginning (TRIM_HORIZON)."""
    from decision_flows_local.streams import StreamPoller

    if given_up := StreamPoller.for_template(
        client, after_poll=lambda table, _through: drop_stream_records(table)
    ).deliver():
        raise RuntimeError(f"the stream consumer gave up on {len(given_up)} seeding records")


def _created(api: Api, key: str, name: str, config: dict[str, Any]) -> str:
    flow_id: str = _ok(api.create(key=key, name=name, draftConfig=config)).body["id"]
    return flow_id


def _ok(response: Any) -> Any:
    if response.status >= 300:
        raise RuntimeError(f"seeding failed: {response.status} {response.body}")
    return response


def drop_all_stream_records() -> None:
    """Forget the stream's records (moto keeps them all, and copies them in every transaction);
    nothing reads the stream after seeding."""
    names = template.table_names()
    for consumer in template.stream_consumers():
        drop_stream_records(names[consumer.table])


@dataclass
class Checkpoint:
    """The items of some partitions of one table, to put back after a write (see the module's doc)."""

    client: Any
    table: str
    partitions: list[str]
    saved: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def take(self) -> None:
        self.saved = self._items()

    def restore(self) -> None:
        """Delete what a write added, put back what it may have changed. Version items (summaries,
        snapshots, the anchor) are written once and never changed, so only the others are put back."""
        for pk, sk in self._items(keys_only=True).keys() - self.saved.keys():
            self.client.delete_item(TableName=self.table, Key={"PK": {"S": pk}, "SK": {"S": sk}})
        for (_, sk), item in self.saved.items():
            if not sk.startswith(WRITTEN_ONCE):
                self.client.put_item(TableName=self.table, Item=item)
        drop_all_stream_records()

    def _items(self, *, keys_only: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        projection = {"ProjectionExpression": "PK, SK"} if keys_only else {}
        for partition in self.partitions:
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
                ConsistentRead=True,
                **projection,
            )
            for page in pages:
                found.update({(item["PK"]["S"], item["SK"]["S"]): item for item in page["Items"]})
        return found
