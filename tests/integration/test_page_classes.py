"""The access layer's pages are built from classes made once per process.

pydantic keeps a parametrised generic such as ``Page[Flow]`` only in a weak cache: a class built
inside a call is freed by the next garbage collection and rebuilt (≈1 ms) by the next request.
(``Page`` is now a dataclass, whose parametrisations make no class; this holds the promise either way.)
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

from decision_flows import wiring
from decision_flows_local.api.gateway import Api
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.support.tenants import TENANT_A


def test_pages_outlive_garbage_collection(editor: Api, stream: StreamPoller) -> None:
    # Given a flow with a published version and its history
    flow = editor.create(key="pages", name="Pages", draftConfig=v2_config()).body
    assert editor.publish(id=flow["id"]).status == 200
    stream.deliver()

    # When each listing's page is dropped and the garbage collector runs
    listings: list[Callable[[], Any]] = [
        lambda: wiring.flow_repository().list_flows(TENANT_A, None, 10, None),
        lambda: wiring.flow_repository().list_versions(TENANT_A, flow["id"], 10, None),
        lambda: wiring.history_repository().list_changes(TENANT_A, flow["id"], 10, None),
    ]
    for listing in listings:
        page = listing()
        page_class = weakref.ref(type(page))
        assert page.items, "the listing found what the test wrote"
        del page
        gc.collect()

        # Then the class the page was built from is still alive: the next request reuses it
        assert page_class() is not None
        assert type(listing()) is page_class()
