"""Every history entry the stream consumer writes carries the tenant feed's index keys, spelled so
that the index's string order is time order (then eventId)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from decision_flows.dal import key_schema
from decision_flows.dal.history import HistoryRepository
from decision_flows.domain.history import change_entry, deletion_entry
from decision_flows.models.flow import FlowAction, FlowStatus
from decision_flows.models.history import ChangeEntry, FlowTombstone
from tests.unit.domain.test_transitions import a_flow


class RecordingClient:
    """Just enough of a DynamoDB client for ``record``: it keeps what was put."""

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.puts.append(request)
        return {}


def written_item(entry: ChangeEntry) -> dict[str, Any]:
    client = RecordingClient()
    HistoryRepository(client, "changes").record(entry)  # type: ignore[arg-type]
    [request] = client.puts
    item: dict[str, Any] = request["Item"]
    return item


UPDATED = a_flow(row_version=5, name="Renamed", last_action=FlowAction.UPDATED, updated_at="2026-12-06T10:00:00.250Z")
TOMBSTONE = FlowTombstone(
    flow_id="df_1",
    tenant_id="tenant-a",
    key="welcome",
    status=FlowStatus.DRAFT,
    row_version=6,
    deleted_at="2026-12-06T11:00:00.000Z",
    deleted_by="bob",
)


@pytest.mark.parametrize(
    ("entry", "sort_key"),
    [
        (change_entry("ev-created", None, a_flow()), "2026-12-01T00:00:00.000Z#ev-created"),
        (change_entry("ev-updated", a_flow(), UPDATED), "2026-12-06T10:00:00.250Z#ev-updated"),
        (deletion_entry("ev-deleted", TOMBSTONE), "2026-12-06T11:00:00.000Z#ev-deleted"),
    ],
    ids=["created", "updated", "deleted"],
)
def test_every_entry_the_consumer_writes_is_in_the_tenant_feed(entry: ChangeEntry, sort_key: str) -> None:
    item = written_item(entry)

    assert (item["FeedPK"], item["FeedSK"]) == ({"S": "T#tenant-a#FEED"}, {"S": sort_key})
    assert (item["PK"], item["SK"]["S"][:3]) == ({"S": "T#tenant-a#F#df_1"}, "RV#")  # the entry's own key stays


def test_sort_keys_order_instants_as_time_does_whatever_their_offset() -> None:
    instants = ["2026-12-06T10:30:00.000+02:00", "2026-12-06T09:00:00.001Z", "2026-12-06T08:59:59.999-00:30"]

    keys = [key_schema.feed_sk(at, "e") for at in instants]

    assert keys == ["2026-12-06T08:30:00.000Z#e", "2026-12-06T09:00:00.001Z#e", "2026-12-06T09:29:59.999Z#e"]
    assert sorted(keys) == keys


def test_two_entries_of_one_millisecond_are_ordered_by_event_id() -> None:
    assert key_schema.feed_sk("2026-12-06T09:00:00.000Z", "b") > key_schema.feed_sk("2026-12-06T09:00:00.000Z", "a")


def test_a_since_between_milliseconds_starts_at_the_next_one() -> None:
    between = datetime(2026, 12, 6, 9, 0, 0, 1500, tzinfo=UTC)

    assert key_schema.feed_lower_bound(between) == "2026-12-06T09:00:00.002Z"
    assert key_schema.feed_lower_bound(between.replace(microsecond=2000)) == "2026-12-06T09:00:00.002Z"


@pytest.mark.parametrize(
    ("pk", "theirs"),
    [("T#tenant-a#F#df_1", True), ("T#tenant-a", True), ("T#tenant-ab#F#df_1", False), ("T#tenant-b#F#df_1", False)],
)
def test_a_cursors_table_key_must_be_the_tenants_own(pk: str, theirs: bool) -> None:
    assert key_schema.of_tenant(pk, "tenant-a") is theirs
