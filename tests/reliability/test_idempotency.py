"""Idempotency-Key under the conditions it exists for: a client that timed out and retries, duplicates
that arrive while the first is still running, a key reused with another body, other tenants, and a
store that fails part way (faults injected at the boto3 layer, tests/support/faults.py).

tests/integration/test_idempotency.py has the plain replays; these go beyond them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import botocore.endpoint
import pytest

from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.fixtures.samples import v2_config
from tests.support.faults import (
    Backoff,
    StoreFaults,
    error,
    on_operation,
    published_twice,
    stored_items,
)
from tests.support.figures import Figures
from tests.support.scale import scaled


@dataclass(frozen=True)
class Operation:
    """A route that takes an Idempotency-Key, with a request of it against the ``flow`` fixture."""

    name: str
    path: str
    body: Callable[[dict[str, Any]], dict[str, Any]]
    status: int
    free_text: str  # a field that may take any text: how a test sends "another body"

    def send(self, api: Api, flow: dict[str, Any], key: str, **changes: Any) -> HttpResponse:
        return api.request("POST", self.path, body={**self.body(flow), **changes}, headers={"Idempotency-Key": key})


OPERATIONS = [
    Operation(
        "create", "", lambda _: {"key": "fresh", "name": "Fresh", "draftConfig": v2_config("fresh")}, 201, "name"
    ),
    Operation("publish", "/publish", lambda flow: {"id": flow["id"], "notes": "release"}, 200, "notes"),
    Operation("rollback", "/rollback", lambda flow: {"id": flow["id"], "version": 1, "notes": "back"}, 200, "notes"),
]


def by_name(operation: Operation) -> str:
    return operation.name


@pytest.fixture
def flow(admin: Api) -> dict[str, Any]:
    """Flow "offers" with v1 and v2 published, v2 live."""
    return published_twice(admin, "offers")


@pytest.fixture
def atomic_store(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One request at a time into moto, as DynamoDB is atomic per request (moto in-process is not)."""
    from moto.core.models import botocore_stubber

    lock = threading.Lock()
    process = botocore_stubber.process_request

    def one_at_a_time(request: Any) -> Any:
        with lock:
            return process(request)

    monkeypatch.setattr(botocore_stubber, "process_request", one_at_a_time)


@pytest.fixture
def faults(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> StoreFaults:
    monkeypatch.setattr(botocore.endpoint, "time", Backoff())
    return StoreFaults.on(dynamodb)


def as_sent(response: HttpResponse) -> tuple[Any, ...]:
    """What a client sees of a response: status, body, ETag and Location."""
    return response.status, response.body, response.headers.get("etag"), response.headers.get("location")


def footprint(api: Api, flow_id: str) -> tuple[int, list[int]]:
    """How many flows the tenant has, and the version numbers of one flow."""
    versions = api.get("/versions", id=flow_id).body["versions"]
    return api.get().body["pagination"]["total"], [v["version"] for v in versions]


def expected_footprint(operation: Operation, before: tuple[int, list[int]]) -> tuple[int, list[int]]:
    """One write's worth: one more flow for a create, one more version for a publish or rollback."""
    flows, versions = before
    if operation.name == "create":
        return flows + 1, versions
    return flows, [*versions, len(versions) + 1]


class TestRetryAfterALostResponse:
    @pytest.mark.parametrize("operation", OPERATIONS, ids=by_name)
    def test_the_retry_replays_the_first_response_and_writes_once(
        self, operation: Operation, admin: Api, flow: dict[str, Any]
    ) -> None:
        # Given a request that landed but whose response the client never got (a timeout)
        before = footprint(admin, flow["id"])
        lost = operation.send(admin, flow, "retry-1")
        assert lost.status == operation.status, lost.body
        written = lost.body
        # ...and a flow that moved on meanwhile: its draft edited by someone else
        moved = admin.update(id=written["id"], draftConfig=v2_config("moved"))
        assert moved.status == 200

        # When the client retries with the same key and body
        retry = operation.send(admin, flow, "retry-1")

        # Then it gets the first response exactly: status, body with the draft it wrote, ETag, Location
        assert as_sent(retry) == as_sent(lost)
        assert retry.body["draftConfig"] != v2_config("moved")
        assert retry.body["rowVersion"] == moved.body["rowVersion"] - 1
        # And only one write happened
        assert footprint(admin, flow["id"]) == expected_footprint(operation, before)

    def test_a_replayed_rollback_carries_the_restored_config_after_later_publishes(
        self, admin: Api, flow: dict[str, Any]
    ) -> None:
        # Given a rollback to v1 whose response was lost, then v4 published over it
        lost = admin.request(
            "POST", "/rollback", body={"id": flow["id"], "version": 1}, headers={"Idempotency-Key": "rb"}
        )
        admin.update(id=flow["id"], draftConfig=v2_config("d"))
        assert admin.publish(id=flow["id"]).body["latestVersion"] == 4

        # When the rollback is retried
        retry = admin.request(
            "POST", "/rollback", body={"id": flow["id"], "version": 1}, headers={"Idempotency-Key": "rb"}
        )

        # Then it replays v3 with v1's config, and nothing rolled back again
        assert as_sent(retry) == as_sent(lost)
        assert (retry.body["liveVersion"], retry.body["draftConfig"]) == (3, v2_config("a"))
        assert admin.get(id=flow["id"]).body["latestVersion"] == 4


class TestReplayAfterTheFlowIsGone:
    @pytest.mark.parametrize("operation", OPERATIONS, ids=by_name)
    def test_a_replay_after_a_delete_is_the_first_response_marked_as_replayed(
        self, operation: Operation, admin: Api, flow: dict[str, Any]
    ) -> None:
        # Given a write whose response was lost, and then its flow deleted
        lost = operation.send(admin, flow, "before-delete")
        assert lost.status == operation.status, lost.body
        assert "idempotent-replayed" not in lost.headers
        assert admin.delete(lost.body["id"]).status == 204

        # When the client retries with the same key and body
        retry = operation.send(admin, flow, "before-delete")

        # Then it gets the first response, byte for byte, and is told it is a replay
        assert as_sent(retry) == as_sent(lost)
        assert retry.raw["body"] == lost.raw["body"]
        assert retry.headers["idempotent-replayed"] == "true"

    def test_a_response_too_large_for_its_record_is_replayed_whole_after_a_delete(
        self, admin: Api, dynamodb: Any
    ) -> None:
        # Given a flow whose draft is near the 300 KB limit and made of characters JSON escapes, so that
        # the response, escaped again inside the idempotency record, is far past DynamoDB's 400 KB item
        config = v2_config("big")
        config["nodes"][0]["config"]["padding"] = '"' * (145 * 1024)
        created = admin.request(
            "POST", body={"key": "big", "name": "Big", "draftConfig": config}, headers={"Idempotency-Key": "big-1"}
        )
        assert created.status == 201, created.body
        flow_id = created.body["id"]
        published = admin.request("POST", "/publish", body={"id": flow_id}, headers={"Idempotency-Key": "p"})
        assert published.status == 200, published.body
        # ...and rolled back to after a small v2, which restores the big draft
        assert admin.update(id=flow_id, draftConfig=v2_config("small")).status == 200
        assert admin.publish(id=flow_id).status == 200
        back = {"id": flow_id, "version": 1}
        rolled_back = admin.request("POST", "/rollback", body=back, headers={"Idempotency-Key": "rb"})
        assert rolled_back.status == 200, rolled_back.body

        # When the flow is deleted and the three requests are retried
        assert admin.delete(flow_id).status == 204
        created_again = admin.request(
            "POST", body={"key": "big", "name": "Big", "draftConfig": config}, headers={"Idempotency-Key": "big-1"}
        )
        published_again = admin.request("POST", "/publish", body={"id": flow_id}, headers={"Idempotency-Key": "p"})
        rolled_back_again = admin.request("POST", "/rollback", body=back, headers={"Idempotency-Key": "rb"})

        # Then each is its first response exactly, the draft kept apart once (same config, one item)
        assert created_again.raw["body"] == created.raw["body"]
        assert published_again.raw["body"] == published.raw["body"]
        assert rolled_back_again.raw["body"] == rolled_back.raw["body"]
        assert (created_again.status, published_again.status, rolled_back_again.status) == (201, 200, 200)
        assert rolled_back_again.body["draftConfig"] == config
        kept = [item for item in stored_items()["IdempotencyTable"] if item["id"]["S"].startswith("config#")]
        assert len(kept) == 1

    def test_a_config_too_deep_is_the_same_422_with_an_idempotency_key(self, admin: Api) -> None:
        # Given a draft nested 300 levels deep (pydantic's serialiser gives up near 255)
        deep: dict[str, Any] = {"version": 2, "nodes": []}
        for _ in range(300):
            deep = {"inner": deep}
        body = {"key": "deep", "name": "Deep", "draftConfig": deep}

        # When it is created without and with an Idempotency-Key
        plain = admin.request("POST", body=body)
        keyed = admin.request("POST", body=body, headers={"Idempotency-Key": "deep-1"})

        # Then both are the same 422
        assert (plain.status, plain.code) == (422, "CONFIG_INVALID")
        assert plain.body["errors"][0]["message"].startswith("nests deeper than")
        assert (keyed.status, keyed.body) == (plain.status, plain.body)


class TestDuplicatesInFlight:
    """Threads through the in-process handlers, on a store made atomic per request. The threads share
    each handler module's resolver (one Lambda environment never runs two requests at once); with
    identical requests that sharing cannot change an answer."""

    @pytest.mark.parametrize("operation", OPERATIONS, ids=by_name)
    def test_a_duplicate_while_the_first_writes_is_409_in_progress_and_writes_nothing(
        self, operation: Operation, admin: Api, flow: dict[str, Any], dynamodb: Any, atomic_store: None
    ) -> None:
        # Given a first request held inside its write
        writing, release = threading.Event(), threading.Event()
        held: list[bool] = []

        def hold_first_write(**_: Any) -> None:
            if not held:
                held.append(True)
                writing.set()
                release.wait(timeout=10)

        dynamodb.meta.events.register("before-send.dynamodb.TransactWriteItems", hold_first_write)
        before = footprint(admin, flow["id"])
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(operation.send, admin, flow, "dup-1")
            assert writing.wait(timeout=10)

            # When the same request with the same key arrives meanwhile
            duplicate = operation.send(admin, flow, "dup-1")

            # Then it is 409 IDEMPOTENCY_IN_PROGRESS and has written nothing
            assert (duplicate.status, duplicate.code) == (409, "IDEMPOTENCY_IN_PROGRESS"), duplicate.body
            assert duplicate.headers["content-type"] == "application/problem+json"
            assert footprint(admin, flow["id"]) == before
            release.set()
            completed = first.result(timeout=10)

        # And the first completes, writes once, and a later retry replays it
        assert completed.status == operation.status, completed.body
        assert as_sent(operation.send(admin, flow, "dup-1")) == as_sent(completed)
        assert footprint(admin, flow["id"]) == expected_footprint(operation, before)

    @pytest.mark.long
    def test_racing_duplicates_write_once_and_every_answer_is_the_replay_or_in_progress(
        self, admin: Api, flow: dict[str, Any], atomic_store: None, figures: Figures
    ) -> None:
        # Given N clients that send the same publish with the same key at the same moment
        clients = scaled(6, 24)
        start = threading.Barrier(clients)

        def send(_: int) -> HttpResponse:
            start.wait(timeout=10)
            return admin.request(
                "POST", "/publish", body={"id": flow["id"], "notes": "race"}, headers={"Idempotency-Key": "race"}
            )

        # When they all run
        with ThreadPoolExecutor(max_workers=clients) as pool:
            answers = list(pool.map(send, range(clients)))

        # Then one version was written, and each answer is that publish or 409 in progress
        assert footprint(admin, flow["id"])[1] == [1, 2, 3]
        published = [a for a in answers if a.status == 200]
        in_progress = [a for a in answers if (a.status, a.code) == (409, "IDEMPOTENCY_IN_PROGRESS")]
        assert published, [a.body for a in answers]
        assert len(published) + len(in_progress) == clients
        assert all(as_sent(a) == as_sent(published[0]) for a in published)
        assert published[0].body["latestVersion"] == 3
        figures(clients=clients, replayed=len(published) - 1, in_progress=len(in_progress))


class TestKeyReuse:
    @pytest.mark.parametrize("operation", OPERATIONS, ids=by_name)
    def test_the_same_key_with_another_body_or_if_match_is_422_and_writes_nothing(
        self, operation: Operation, admin: Api, flow: dict[str, Any]
    ) -> None:
        # Given a request that went through with a key
        first = operation.send(admin, flow, "reused")
        assert first.status == operation.status
        before = stored_items()

        # When the key comes back with another body, or the same body under another If-Match
        other_body = operation.send(admin, flow, "reused", **{operation.free_text: "other"})
        if_match = admin.request(
            "POST",
            operation.path,
            body=operation.body(flow),
            headers={"Idempotency-Key": "reused", "If-Match": f'"{flow["rowVersion"]}"'},
        )

        # Then each is 422 IDEMPOTENCY_KEY_REUSED, and no table changed
        for refused in (other_body, if_match):
            assert (refused.status, refused.code) == (422, "IDEMPOTENCY_KEY_REUSED"), refused.body
        assert stored_items() == before

    def test_the_same_body_in_another_key_order_and_spacing_is_a_replay(self, admin: Api, flow: dict[str, Any]) -> None:
        # Given a publish sent with a key
        body = {"id": flow["id"], "notes": "release"}
        first = admin.request("POST", "/publish", body=body, headers={"Idempotency-Key": "spaced"})

        # When it is resent with its fields in another order and other whitespace
        respaced = json.dumps(dict(reversed(body.items())), indent=4)
        retry = admin.request("POST", "/publish", raw_body=respaced, headers={"Idempotency-Key": "spaced"})

        # Then it is the same request: a replay
        assert as_sent(retry) == as_sent(first)
        assert admin.get(id=flow["id"]).body["latestVersion"] == 3

    def test_a_key_is_independent_across_tenants_and_operations(
        self, admin: Api, other_tenant: Api, flow: dict[str, Any]
    ) -> None:
        # Given tenant A's publish with key "shared"
        mine = admin.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "shared"})
        assert mine.status == 200

        # When tenant B uses the same key for its own create and publish, and A for a create
        theirs = other_tenant.request("POST", body={"key": "b", "name": "B"}, headers={"Idempotency-Key": "shared"})
        other_tenant.update(id=theirs.body["id"], draftConfig=v2_config("b"))
        theirs_published = other_tenant.request(
            "POST", "/publish", body={"id": theirs.body["id"]}, headers={"Idempotency-Key": "shared"}
        )
        my_create = admin.request("POST", body={"key": "a2", "name": "A2"}, headers={"Idempotency-Key": "shared"})

        # Then each runs on its own: no 422, no replay of another's response
        assert (theirs.status, theirs.body["tenantId"]) == (201, "tenant-b")
        assert (theirs_published.status, theirs_published.body["latestVersion"]) == (200, 1)
        assert (my_create.status, my_create.body["key"]) == (201, "a2")
        # And A's retry still replays A's publish
        retry = admin.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "shared"})
        assert as_sent(retry) == as_sent(mine)
        assert admin.get(id=flow["id"]).body["latestVersion"] == 3


class TestStoreFailures:
    @pytest.mark.parametrize(
        ("failing", "table"),
        [("TransactWriteItems", "FlowsTable"), ("PutItem", "IdempotencyTable")],
        ids=["the write", "the key's lock"],
    )
    def test_a_request_that_failed_in_the_store_is_not_remembered(
        self, failing: str, table: str, admin: Api, flow: dict[str, Any], faults: StoreFaults
    ) -> None:
        # Given a publish whose write, or whose Idempotency-Key lock, is throttled beyond the SDK's retries
        before = stored_items()
        faults.inject(error("ProvisionedThroughputExceededException"), on_operation(failing, table))
        failed = admin.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "k"})
        assert (failed.status, failed.code) == (503, "STORE_BUSY"), failed.body
        assert stored_items() == before

        # When the store recovers and the client retries with the same key
        faults.lift()
        retried = admin.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "k"})

        # Then the publish runs now, once
        assert retried.status == 200, retried.body
        assert footprint(admin, flow["id"])[1] == [1, 2, 3]

    def test_a_write_whose_response_could_not_be_stored_still_answers_and_is_not_repeated(
        self, admin: Api, flow: dict[str, Any], faults: StoreFaults, figures: Figures
    ) -> None:
        # Given a publish that lands, after which storing its response for the key fails
        faults.inject(error("InternalServerError", status=500), on_operation("UpdateItem", "IdempotencyTable"))

        # When it is sent
        response = admin.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "k"})

        # Then the client gets the publish's own answer (not a 5xx inviting a second publish)
        assert response.status == 200, response.body
        assert response.body["latestVersion"] == 3
        assert response.body["draftConfig"] == v2_config("b")

        # And a retry while the key's lock stands is 409 in progress, not a second version
        faults.lift()
        retry = admin.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "k"})
        assert (retry.status, retry.code) == (409, "IDEMPOTENCY_IN_PROGRESS")
        assert footprint(admin, flow["id"])[1] == [1, 2, 3]
        figures(save_attempts_refused=len(faults.faulted))
