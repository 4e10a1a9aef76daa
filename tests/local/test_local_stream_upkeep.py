"""`make serve`'s embedded stream over a long session: what it keeps, and a table made anew.

moto keeps every stream record (with its item images) and every shard iterator it ever issued for
as long as the process lives, so a long local session's memory would grow with every write and
every poll. The store drops both after each poll; that must not lose or repeat any change.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from decision_flows.dal.client import dynamodb_client
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, Caller
from decision_flows_local.dynamodb.embedded import LocalStore, embedded_table
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.support.tenants import TENANT_A


@pytest.fixture
def store() -> Iterator[LocalStore]:
    embedded = LocalStore(None)
    embedded.start()
    yield embedded
    embedded.stop()


FLOWS = template.table_names()[template.stream_consumers()[0].table]


def kept_records(store: LocalStore) -> int:
    shard = embedded_table(FLOWS).stream_shard
    assert shard is not None
    return len(shard.items)


def kept_iterators() -> int:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    return len(dynamodbstreams_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].shard_iterators)


def test_delivered_records_are_dropped_and_later_ones_still_arrive(store: LocalStore) -> None:
    # Given the local server's poller on the embedded store, and a flow created and published
    poller = StreamPoller.for_template(dynamodb_client(), after_poll=store.after_stream_poll)
    editor = Api(Caller(TENANT_A, "editor", "editor@a.example"))
    flow = editor.create(key="trimmed", name="Trimmed", draftConfig=v2_config()).body
    assert editor.publish(id=flow["id"], notes="first").status == 200
    assert kept_records(store) > 0

    # When the poller delivers them
    assert poller.deliver() == []

    # Then the store keeps none of them, and the consumer has written both changes
    assert kept_records(store) == 0
    assert [entry["action"] for entry in editor.history(flow["id"]).body["data"]] == ["published", "created"]

    # And when more changes come, they are read from where the stream had got to, once each
    assert editor.update(id=flow["id"], name="Trimmed again").status == 200
    assert editor.publish(id=flow["id"], notes="second").status == 200
    assert poller.deliver() == []
    assert kept_records(store) == 0
    actions = [entry["action"] for entry in editor.history(flow["id"]).body["data"]]
    assert actions == ["published", "updated", "published", "created"]
    assert editor.live("trimmed").body["version"] == 2


def test_idle_polls_leave_no_iterators_behind(store: LocalStore) -> None:
    # Given the server's poller on an embedded store with nothing to deliver
    poller = StreamPoller.for_template(dynamodb_client(), after_poll=store.after_stream_poll)

    # When it polls a hundred times
    assert all(poller.poll() for _ in range(100))

    # Then moto holds none of the iterators those polls took
    assert kept_iterators() == 0


def test_a_table_deleted_and_created_again_is_read_from_its_new_streams_start(store: LocalStore) -> None:
    # Given a poller that has delivered a flow's changes
    poller = StreamPoller.for_template(dynamodb_client(), after_poll=store.after_stream_poll)
    editor = Api(Caller(TENANT_A, "editor", "editor@a.example"))
    editor.create(key="before", name="Before", draftConfig=v2_config())
    assert poller.poll()

    # When the flows table is deleted and created again (moto restarts its sequence numbers), and written to
    client = dynamodb_client()
    client.delete_table(TableName=FLOWS)
    template.create_tables(client, frozenset(set(template.table_names()) - {FLOWS}))
    flow = editor.create(key="after", name="After", draftConfig=v2_config()).body
    assert poller.poll()

    # Then the new table's first change reached the history
    assert [entry["action"] for entry in editor.history(flow["id"]).body["data"]] == ["created"]
