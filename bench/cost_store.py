"""The store the DynamoDB cost benchmark measures: in-process moto with template.yaml's tables, the
real handlers wired to it (as tests/conftest.py does), and flows given long histories quickly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

from bench.dynamo_meter import Meter
from bench.support import TENANT
from decision_flows.dal import keys
from decision_flows.domain.pipeline import canonical_json
from decision_flows.settings import settings
from decision_flows_local.gateway import Api, Caller
from decision_flows_local.history_seed import ItemWriter, seed_change_log, seed_history
from decision_flows_local.samples import v2_config
from decision_flows_local.store import embedded_table, embedded_tables


def sized_config(size: int, label: str) -> dict[str, Any]:
    """A valid v2 pipeline config whose canonical JSON is exactly ``size`` bytes."""
    config = v2_config(label)
    config["nodes"][0]["config"]["padding"] = ""
    config["nodes"][0]["config"]["padding"] = "x" * (size - len(canonical_json(config).encode()))
    assert len(canonical_json(config).encode()) == size
    return config


@dataclass
class Store:
    client: Any
    meter: Meter
    api: Api
    write_items: ItemWriter

    def flow_with_history(self, key: str, history: int, size: int) -> str:
        """A flow whose versions 1..history-1 hold one config (``old``) and whose live version
        ``history``, published through the API, and draft hold another (``live``); both ``size`` bytes.
        Its change history has an entry per release, as the stream consumer would have left."""
        flow_id = self.new_flow(key, sized_config(size, "live"))
        if history > 1:
            old = sized_config(size, "old")
            seed_history(self.client, TENANT, flow_id, history - 1, config=old, write_items=self.write_items)
        published = self.api.publish(id=flow_id, notes="the live release")
        assert (published.status, published.body["latestVersion"]) == (200, history), published.body
        changes_table = settings().changes_table
        seed_change_log(changes_table, TENANT, flow_id, history, published.body["createdAt"], self.write_items)
        return flow_id

    def flow_with_seeded_history(self, flow_id: str, history: int, size: int) -> None:
        """``history`` versions of one config of ``size`` bytes, all written directly (no transaction)."""
        config = sized_config(size, "old")
        seed_history(self.client, TENANT, flow_id, history, config=config, write_items=self.write_items)

    def new_flow(self, key: str, draft: dict[str, Any]) -> str:
        created = self.api.create(key=key, name=key, draftConfig=draft)
        assert created.status == 201, created.body
        flow_id: str = created.body["id"]
        return flow_id

    @contextmanager
    def restored(self, flow_id: str) -> Iterator[None]:
        """After the block the flow is as before it: its item and the tenant's counters put back, the
        version a publish or rollback appended removed. So every write is measured at the same length."""
        table = settings().flows_table
        flow_key = keys.key(keys.flow_pk(TENANT, flow_id), keys.FLOW_SK)
        counters_key = keys.key(keys.tenant_pk(TENANT), keys.COUNTERS_SK)
        flow_item = self.client.get_item(TableName=table, Key=flow_key, ConsistentRead=True)["Item"]
        counters = self.client.get_item(TableName=table, Key=counters_key, ConsistentRead=True)["Item"]
        yield
        self.client.put_item(TableName=table, Item=flow_item)
        self.client.put_item(TableName=table, Item=counters)
        appended = int(flow_item["latestVersion"]["N"]) + 1
        for sort_key in (keys.version_sk(appended), keys.snapshot_sk(appended)):
            self.client.delete_item(TableName=table, Key=keys.key(keys.flow_pk(TENANT, flow_id), sort_key))

    @contextmanager
    def live_entry_forgotten(self, key: str) -> Iterator[None]:
        """The live cache misses for ``key``: the next GET /live rebuilds the entry."""
        live_key = {"PK": {"S": keys.key_reservation_pk(TENANT, key)}}
        self.client.delete_item(TableName=settings().live_table, Key=live_key)
        yield


@contextmanager
def moto_store() -> Iterator[Store]:
    """A fresh in-process moto DynamoDB with the template's tables; handlers build their client on it.
    Needs bench.support's fake AWS environment (tests/conftest.py sets the same)."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    limit = patch.object(LimitedSizeDict, "__setitem__", _set_attribute_within_the_item_limit)
    with limit, embedded_tables() as client:
        meter = Meter(client, MotoItems())
        yield Store(client, meter, Api(Caller(TENANT, "admin", "someone@x")), moto_item_writer())


# moto's item limit (DynamoDB's 400 KB, "between 409 and 410 KB" measured, by moto's own sizing).
MOTO_ITEM_LIMIT = 405_000


def _set_attribute_within_the_item_limit(item: dict[str, Any], name: str, value: Any) -> None:
    """moto 5.2 checks an update by adding the new value to the item that still holds the old one, so
    it refuses to replace a 250 KB draft with another 250 KB draft; DynamoDB holds the item the update
    leaves to the limit. This is moto's check (same sizes, same limit) on that item, for the benchmark
    only: it changes which updates are accepted, nothing of what goes over the wire."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    def size(part: Any) -> int:
        return int(part.size()) if type(part) is DynamoType else int(bytesize(str(part)))

    left = sum(size(other) + size(other_value) for other, other_value in item.items() if other != name)
    if left + size(name) + size(value) > MOTO_ITEM_LIMIT:
        raise ItemSizeTooLarge
    dict.__setitem__(item, name, value)


class MotoItems:
    """The meter's view of moto's tables (``StoredItems``): an item as it is now, by key, read from
    the backend directly, so the capacity estimate sizes whole items without a metered call."""

    def key_names(self, table: str) -> tuple[str, ...]:
        found = embedded_table(table)
        return (found.hash_key_attr,) + ((found.range_key_attr,) if found.range_key_attr else ())

    def item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        found = embedded_table(table)
        range_key = DynamoType(key[found.range_key_attr]) if found.range_key_attr else None
        stored = found.get_item(DynamoType(key[found.hash_key_attr]), range_key)
        return None if stored is None else dict(stored.to_json()["Attributes"])


def moto_item_writer() -> ItemWriter:
    """Puts items straight into moto's tables, not through the client.

    Through the client every item would be serialised and parsed into its own copy of its config:
    10 000 snapshots of 250 KB would take 2.5 GB; here they share one string. The seeding also
    leaves no stream records: the consumer never runs in the benchmark, and moto would otherwise
    deep-copy them with the table on every later transaction (real DynamoDB copies nothing). The
    shard is set aside rather than its records dropped afterwards (decision_flows_local.store's
    drop_stream_records): moto would serialise every 250 KB item once more to size its record.
    """

    def write(table_name: str, wire_items: list[dict[str, Any]]) -> None:
        table = embedded_table(table_name)
        stream, table.stream_shard = table.stream_shard, None
        try:
            for item in wire_items:
                table.put_item(item)
        finally:
            table.stream_shard = stream

    return write
