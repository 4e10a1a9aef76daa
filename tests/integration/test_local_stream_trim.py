"""`make serve`'s embedded store drops stream records once the consumer has had them.

moto keeps every record with its item images for as long as the process lives, so a long local
session's memory would grow with every write. Dropping delivered records must not lose or repeat
any change.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from decision_flows.dal.client import dynamodb_client
from decision_flows_local import template
from decision_flows_local.gateway import Api, Caller
from decision_flows_local.store import LocalStore
from decision_flows_local.streams import StreamPoller
from tests.conftest import TENANT_A
from tests.support.configs import v2_config


@pytest.fixture
def store() -> Iterator[LocalStore]:
    embedded = LocalStore(None)
    embedded.start()
    yield embedded
    embedded.stop()


def kept_records(store: LocalStore) -> int:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    flows_table = template.table_names()[template.stream_consumers()[0].table]
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[flows_table].stream_shard
    assert shard is not None
    return len(shard.items)


def test_delivered_records_are_dropped_and_later_ones_still_arrive(store: LocalStore) -> None:
    # Given the local server's poller on the embedded store, and a flow created and published
    poller = StreamPoller.for_template(dynamodb_client(), forget=store.forget_stream_records)
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
