"""Faults injected at the boto3 layer (tests/support/faults.py): DynamoDB's own error answers and
broken connections, on the handlers' real client, through the SDK's retry handler.

Throttling on any call of any route is 503 STORE_BUSY with Retry-After once the SDK's retries are
spent, and writes nothing; transaction conflicts are retried and then 409; a write that fails after
its read leaves every table as it was; a stream record that always fails is the batch's only failure
and is given up after the event source mapping's retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.endpoint
import pytest

from decision_flows import runtime_wiring
from decision_flows.dal import writes
from decision_flows.dal.api_keys import ApiKeyRepository
from decision_flows.dal.probe import REMEMBER_SECONDS, StoreProbe
from decision_flows.domain.api_keys import new_api_key
from decision_flows.domain.clock import timestamp
from decision_flows.domain.errors import StoreUnavailable
from decision_flows.models.identity import Role
from decision_flows.web import auth_refusals
from decision_flows_local import template
from decision_flows_local.api.gateway import (
    Api,
    Caller,
    HttpResponse,
    LambdaContext,
    build_event,
    invoke,
    invoke_through_authorizer,
)
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.support.faults import (
    TABLES,
    Answer,
    Backoff,
    Call,
    StoreFaults,
    cancelled,
    connection_lost,
    error,
    nth_call,
    on_operation,
    published_twice,
    stored_items,
)
from tests.support.figures import Figures
from tests.support.scale import scaled
from tests.support.tenants import TENANT_B

THROTTLING = ["ProvisionedThroughputExceededException", "ThrottlingException"]
FAILURES: dict[str, Callable[[], Answer]] = {
    "InternalServerError": lambda: error("InternalServerError", status=500),
    "connection lost": connection_lost,
}
# A cancellation's reason, its answer, and the attempts before it: the SDK retries no cancellation,
# the service retries conflicts.
CANCELLATIONS = [
    ("ThrottlingError", 503, "STORE_BUSY", 1),
    ("TransactionConflict", 409, "TRANSACTION_CONFLICT", writes.TRANSACTION_ATTEMPTS),
]
FLOW = "/api/v1/decision-flows"
MAX_CALLS = 10


@dataclass(frozen=True)
class RouteRequest:
    """One request of a template route, against the ``published`` scenario's flows and change requests."""

    name: str
    method: str
    path: str
    succeeds_with: int
    args: Callable[[dict[str, Any]], dict[str, Any]]
    by: str | None = None
    """The scenario's caller who sends it, when the route refuses the rig's admin (an author reviewing)."""
    under_review: bool = False
    """It acts on the scenario's change requests (``under_review``, arranged only for such requests)."""

    def send(self, api: Api, scenario: dict[str, Any]) -> HttpResponse:
        if self.path.startswith("/live"):  # each attempt as a new instance meets it: the config still to read
            runtime_wiring.runtime_reads.cache_clear()
            runtime_wiring.response_bodies.cache_clear()
        sender: Api = scenario[self.by] if self.by else api
        return sender.request(self.method, self.path, **self.args(scenario))


def review_step(change: str, **fields: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The body of a step on the scenario's change request ``change``: its id and ``fields``."""
    return lambda s: {"body": {"changeId": s[change], **fields}}


def an_hour_ahead(change_id: str) -> dict[str, Any]:
    """A schedule's body: runAt an hour after the real clock (the rig's services keep it)."""
    return {"body": {"changeId": change_id, "runAt": timestamp(datetime.now(UTC) + timedelta(hours=1))}}


def approval(s: dict[str, Any]) -> dict[str, Any]:
    """The pending request's approval, bound to its content as the reviewer read it."""
    return {"body": {"changeId": s["pending"], "contentHash": s["pending_hash"]}}


def emergency(**body: Any) -> dict[str, Any]:
    return {"body": {**body, "emergency": {"reason": "checkout errors spiking"}}}


REQUESTS = [
    RouteRequest("list", "GET", "", 200, lambda s: {"query": {"limit": "10"}}),
    RouteRequest("get", "GET", "", 200, lambda s: {"query": {"id": s["id"]}}),
    RouteRequest("create", "POST", "", 201, lambda s: {"body": {"key": "fresh", "name": "Fresh"}}),
    RouteRequest("rename", "PUT", "", 200, lambda s: {"body": {"id": s["id"], "name": "Renamed"}}),
    RouteRequest("pause", "PUT", "", 200, lambda s: {"body": {"id": s["id"], "status": "paused"}}),
    RouteRequest("delete", "DELETE", "", 204, lambda s: {"query": {"id": s["id"]}}),
    RouteRequest("publish", "POST", "/publish", 200, lambda s: {"body": {"id": s["id"], "notes": "again"}}),
    RouteRequest("versions", "GET", "/versions", 200, lambda s: {"query": {"id": s["id"]}}),
    RouteRequest("version", "GET", "/versions", 200, lambda s: {"query": {"id": s["id"], "version": "1"}}),
    RouteRequest("rollback", "POST", "/rollback", 200, lambda s: {"body": {"id": s["id"], "version": 1}}),
    RouteRequest("history", "GET", "/history", 200, lambda s: {"query": {"id": s["id"]}}),
    RouteRequest("live", "GET", "/live", 200, lambda s: {"query": {"key": "offers"}}),
    RouteRequest("live miss", "GET", "/live", 200, lambda s: {"query": {"key": "cold"}}),
    RouteRequest("live state", "GET", "/live/state", 200, lambda s: {"query": {"key": "rolling"}}),
    RouteRequest("diff", "GET", "/diff", 200, lambda s: {"query": {"id": s["id"], "from": "1", "to": "draft"}}),
    RouteRequest("validate", "POST", "/validate", 200, lambda s: {"body": {"id": s["id"]}}),
    RouteRequest("challenge", "POST", "/publish", 200, lambda s: {"body": {"id": s["id"], "rollout": {"percent": 5}}}),
    RouteRequest("share", "POST", "/rollout", 200, lambda s: {"body": {"id": s["rolling"], "percent": 20}}),
    RouteRequest("promote", "POST", "/rollout/promote", 200, lambda s: {"body": {"id": s["rolling"]}}),
    RouteRequest("abort", "POST", "/rollout/abort", 200, lambda s: {"body": {"id": s["rolling"]}}),
    # An admin's emergency: the flow's write and its change request's creation in one transaction.
    RouteRequest("emergency rollback", "POST", "/rollback", 200, lambda s: emergency(id=s["id"], version=1)),
    RouteRequest("emergency abort", "POST", "/rollout/abort", 200, lambda s: emergency(id=s["rolling"])),
    RouteRequest("policy", "GET", "/policy", 200, lambda s: {}),
    RouteRequest("set policy", "PUT", "/policy", 200, lambda s: {"body": {"approvals": {"required": 1}}}),
    RouteRequest("change", "GET", "/changes", 200, lambda s: {"query": {"id": s["approved"]}}, under_review=True),
    RouteRequest("changes", "GET", "/changes", 200, lambda s: {"query": {"flowId": s["id"]}}, under_review=True),
    RouteRequest(
        "request",
        "POST",
        "/changes",
        201,
        lambda s: {"body": {"flowId": s["id"], "action": "publish", "params": {"notes": "reviewed"}}},
    ),
    RouteRequest("approve", "POST", "/changes/approve", 200, approval, by="reviewer", under_review=True),
    RouteRequest(
        "reject",
        "POST",
        "/changes/reject",
        200,
        review_step("pending", comment="Not now"),
        by="reviewer",
        under_review=True,
    ),
    RouteRequest("cancel", "POST", "/changes/cancel", 200, review_step("approved"), under_review=True),
    RouteRequest("apply", "POST", "/changes/apply", 200, review_step("approved"), under_review=True),
    RouteRequest(
        "schedule", "POST", "/changes/schedule", 200, lambda s: an_hour_ahead(s["approved"]), under_review=True
    ),
    RouteRequest("unschedule", "POST", "/changes/unschedule", 200, review_step("scheduled"), under_review=True),
]
# Writes of one item (one UpdateItem or PutItem, no transaction to cancel).
SINGLE_WRITES = {
    *("rename", "share", "promote", "abort", "set policy", "request", "approve", "reject", "cancel"),
    *("schedule", "unschedule"),
}
READ_ONLY_POSTS = {"validate"}
EMERGENCIES = {"emergency rollback", "emergency abort"}
WRITES_AFTER_A_READ = [
    r
    for r in REQUESTS
    if r.name
    in {"rename", "pause", "delete", "publish", "rollback", "challenge", "apply", *EMERGENCIES, *SINGLE_WRITES}
]
WRITES = [r for r in REQUESTS if r.method != "GET" and r.name not in READ_ONLY_POSTS]


def by_name(request: RouteRequest) -> str:
    return request.name


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    """The SDK's retry delays, recorded instead of slept (a throttled call would otherwise wait ~3 s)."""
    recorder = Backoff()
    monkeypatch.setattr(botocore.endpoint, "time", recorder)
    return recorder


@pytest.fixture
def faults(dynamodb: Any, backoff: Backoff) -> StoreFaults:
    return StoreFaults.on(dynamodb)


@pytest.fixture
def published(admin: Api, stream: StreamPoller) -> dict[str, Any]:
    """Flow "offers" with v1 and v2 published and its live entry cached; flow "cold" published after
    the consumer last ran, so its key misses the live pointers; flow "rolling" in a staged rollout."""
    published = published_twice(admin, "offers")
    assert stream.deliver() == []
    cold = admin.create(key="cold", name="Cold", draftConfig=v2_config("c")).body
    assert admin.publish(id=cold["id"]).status == 200
    rolling = published_twice(admin, "rolling")  # and "rolling", whose v3 is a challenger at 50 %
    assert admin.update(id=rolling["id"], draftConfig=v2_config("r")).status == 200
    assert admin.publish(id=rolling["id"], rollout={"percent": 50}).status == 200
    return published | {"rolling": rolling["id"]}


def under_review(admin: Api, other_admin: Api, flow_id: str) -> dict[str, Any]:
    """Change requests in both review states. Tenant A keeps the default policy (no approval needed),
    so the routes above stay direct calls and its admin's publish request of ``flow_id`` is "approved"
    at once. Tenant B requires one approval: its admin's publish request of a draft flow is "pending",
    for its editor (the "reviewer", not its author) to approve or reject."""
    approved = admin.request("POST", "/changes", body={"flowId": flow_id, "action": "publish"})
    assert (approved.status, approved.body["state"]) == (201, "approved"), approved.body
    elsewhere = other_admin.create(key="elsewhere", name="Elsewhere", draftConfig=v2_config("e")).body
    assert other_admin.request("PUT", "/policy", body={"approvals": {"required": 1}}).status == 200
    pending = other_admin.request("POST", "/changes", body={"flowId": elsewhere["id"], "action": "publish"})
    assert (pending.status, pending.body["state"]) == (201, "pending"), pending.body
    scheduled = admin.request("POST", "/changes", body={"flowId": flow_id, "action": "publish"}).body["changeId"]
    assert admin.request("POST", "/changes/schedule", **an_hour_ahead(scheduled)).status == 200
    return {
        "scheduled": scheduled,
        "approved": approved.body["changeId"],
        "pending": pending.body["changeId"],
        "pending_hash": pending.body["contentHash"],
        "reviewer": Api(Caller(TENANT_B, "editor", "reviewer@b.example")),
    }


def sdk_attempts(dynamodb: Any) -> int:
    attempts: int = dynamodb.meta.config.retries["total_max_attempts"]
    return attempts


@dataclass(frozen=True)
class Rig:
    """The API as an admin, the ``published`` flow, and the faults of the handlers' client."""

    api: Api
    flow: dict[str, Any]
    faults: StoreFaults
    sdk_attempts: int


@pytest.fixture
def rig(
    request: pytest.FixtureRequest,
    admin: Api,
    other_tenant: Api,
    published: dict[str, Any],
    faults: StoreFaults,
    dynamodb: Any,
) -> Rig:
    """The scenario of the test's ``route``: the change requests too when it acts on them (four
    requests more, not worth making for every test)."""
    route = getattr(request.node, "callspec", None) and request.node.callspec.params.get("route")
    if isinstance(route, RouteRequest) and route.under_review:
        published |= under_review(admin, other_tenant, published["id"])
    return Rig(admin, published, faults, sdk_attempts(dynamodb))


def live_entries() -> dict[str, tuple[int, bool]]:
    """The live table as the consumer left it: key -> (version, served)."""
    return {
        item["key"]["S"]: (int(item["version"]["N"]), item["served"]["BOOL"]) for item in stored_items()["LiveTable"]
    }


def assert_store_busy(response: HttpResponse) -> None:
    assert (response.status, response.code) == (503, "STORE_BUSY"), response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.body["status"] == 503


def assert_store_consistent(api: Api) -> None:
    """Every listed flow reads back, its versions run 1..latest without a gap, and the counters agree."""
    listed = api.get(limit="100").body
    assert listed["pagination"]["total"] == len(listed["data"])
    for item in listed["data"]:
        flow = api.get(id=item["id"]).body
        versions = api.get("/versions", id=item["id"]).body["versions"]
        assert [v["version"] for v in versions] == list(range(1, (flow["latestVersion"] or 0) + 1))
        assert flow["liveVersion"] is None or 1 <= flow["liveVersion"] <= flow["latestVersion"]


def test_the_requests_cover_every_route_of_the_template() -> None:
    routes = {(route.method, route.path) for route in template.path_routes() if route.authorizer is not None}
    assert {(r.method, FLOW + r.path) for r in REQUESTS} == routes


class TestThrottling:
    @pytest.mark.parametrize("route", REQUESTS, ids=by_name)
    def test_each_call_of_a_route_throttled_is_503_and_the_request_then_succeeds(
        self, route: RouteRequest, rig: Rig, figures: Figures
    ) -> None:
        # Given a store with published flows
        before = stored_items()
        throttled: list[str] = []

        # When each DynamoDB call of the request in turn is throttled on every attempt (with each
        # throttling code), until the request gets through without reaching the throttled call
        positions_and_codes = ((position, code) for position in range(MAX_CALLS) for code in THROTTLING)
        for position, code in positions_and_codes:
            rig.faults.reset()
            rig.faults.lift()
            rig.faults.inject(error(code), nth_call(position))
            response = route.send(rig.api, rig.flow)
            if not rig.faults.faulted:
                break
            # Then it is 503 STORE_BUSY after the SDK's retries, and nothing was written
            call = rig.faults.calls[position]
            assert_store_busy(response)
            assert rig.faults.faulted == [call] * rig.sdk_attempts
            assert rig.faults.calls[-1] == call, "no call follows the one that failed"
            assert stored_items() == before
            throttled.append(call.operation)
        else:
            pytest.fail(f"the request made more than {MAX_CALLS} calls")
        rig.faults.lift()
        calls = len(rig.faults.calls)

        # Then, with no call throttled, the same request succeeds and leaves a consistent store
        assert response.status == route.succeeds_with, response.body
        # The management limit's count is the first call; runtime reads have no such write (their pointer)
        assert throttled[0] == ("GetItem" if route.path.startswith("/live") else "UpdateItem")
        assert len(throttled) == len(THROTTLING) * calls
        assert_store_consistent(rig.api)
        figures(calls=calls, faults_injected=len(throttled) * rig.sdk_attempts)

    def test_a_short_throttle_is_absorbed_by_the_sdks_retries(
        self, rig: Rig, backoff: Backoff, figures: Figures
    ) -> None:
        # Given a store that throttles the next two attempts of the publish's read and of its write
        rig.faults.inject(
            error("ProvisionedThroughputExceededException"), on_operation("BatchGetItem", "FlowsTable"), 2
        )
        rig.faults.inject(error("ThrottlingException"), on_operation("TransactWriteItems", "FlowsTable"), 2)

        # When a publish is sent
        response = rig.api.publish(id=rig.flow["id"])

        # Then the SDK retried each call through its throttles and the publish landed once
        assert response.status == 200, response.body
        assert response.body["latestVersion"] == rig.flow["latestVersion"] + 1
        # (the one read of the flow and the tenant's review policy: two throttled attempts and the third)
        assert rig.faults.attempts_of("BatchGetItem", "FlowsTable") == 3
        assert rig.faults.attempts_of("GetItem", "FlowsTable") == 0
        assert rig.faults.attempts_of("TransactWriteItems", "FlowsTable") == 3
        assert len(backoff.delays) == len(rig.faults.faulted) == 4
        assert_store_consistent(rig.api)
        figures(faults_injected=len(rig.faults.faulted), backoff_seconds=round(sum(backoff.delays), 3))

    @pytest.mark.long
    def test_under_a_throttling_storm_the_sdk_stops_retrying_and_every_answer_stays_503(
        self, rig: Rig, figures: Figures
    ) -> None:
        # Given a store that throttles every attempt of every call
        rig.faults.inject(error("ProvisionedThroughputExceededException"), lambda _: True)
        requests = scaled(60, 200)

        # When many reads are sent
        attempts_per_request: list[int] = []
        for _ in range(requests):
            rig.faults.reset()
            assert_store_busy(rig.api.get(id=rig.flow["id"]))
            attempts_per_request.append(len(rig.faults.attempts))

        # Then the first are retried fully, and once the SDK's retry quota is spent they fail at once
        assert attempts_per_request[0] == rig.sdk_attempts
        assert attempts_per_request[-1] == 1
        quota_spent_after = attempts_per_request.index(1)
        assert all(attempts == 1 for attempts in attempts_per_request[quota_spent_after:])

        # And when the storm passes, requests succeed again
        rig.faults.lift()
        assert rig.api.get(id=rig.flow["id"]).status == 200
        figures(requests=requests, retried_requests_before_quota_spent=quota_spent_after)


class TestRefusedTransactions:
    @pytest.mark.parametrize("route", [r for r in WRITES if r.name not in SINGLE_WRITES], ids=by_name)
    def test_a_cancelled_transaction_is_answered_by_its_reason_and_writes_nothing(
        self, route: RouteRequest, rig: Rig
    ) -> None:
        # Given a store with published flows
        before = stored_items()
        for reason, status, code, attempts in CANCELLATIONS:
            rig.faults.reset()
            rig.faults.lift()
            # When the route's transaction is cancelled, every time, for this reason
            rig.faults.inject(cancelled(reason), on_operation("TransactWriteItems", "FlowsTable"))
            response = route.send(rig.api, rig.flow)

            # Then the answer is the reason's problem, after its attempts, and nothing landed
            assert (response.status, response.code) == (status, code), response.body
            assert response.headers["content-type"] == "application/problem+json"
            assert len(rig.faults.faulted) == attempts
            assert stored_items() == before

        # And once the fault is lifted the same request succeeds
        rig.faults.lift()
        assert route.send(rig.api, rig.flow).status == route.succeeds_with
        assert_store_consistent(rig.api)

    @pytest.mark.parametrize(
        ("method", "path", "field", "operation", "conflict"),
        [
            ("POST", "/publish", "notes", "TransactWriteItems", cancelled("TransactionConflict")),
            ("PUT", "", "name", "UpdateItem", error("TransactionConflictException")),
        ],
        ids=["transaction", "single write"],
    )
    def test_a_passing_conflict_is_retried_and_lands_once_and_a_lasting_one_is_409(
        self, method: str, path: str, field: str, operation: str, conflict: Answer, rig: Rig, figures: Figures
    ) -> None:
        # Given a write that meets another transaction on all its attempts but the last
        conflicts = writes.TRANSACTION_ATTEMPTS - 1
        rig.faults.inject(conflict, on_operation(operation, "FlowsTable"), conflicts)

        # When it is sent
        response = rig.api.request(method, path, body={"id": rig.flow["id"], field: "first"})

        # Then the service retried it (the SDK does not) and it landed once; each attempt after a
        # cancellation is a new transaction, with a token of its own
        assert response.status == 200, response.body
        assert response.body["rowVersion"] == rig.flow["rowVersion"] + 1
        sent = [call for call in rig.faults.calls if on_operation(operation, "FlowsTable")(call)]
        assert len(sent) == rig.faults.attempts_of(operation, "FlowsTable") == conflicts + 1
        tokens = [call.params.get("ClientRequestToken") for call in sent]
        if operation == "TransactWriteItems":
            assert None not in tokens
            assert len(set(tokens)) == len(sent)
        else:
            assert tokens == [None] * len(sent)
        versions = rig.api.get("/versions", id=rig.flow["id"]).body["versions"]
        assert len(versions) == response.body["latestVersion"]

        # When the next write meets conflicts on every attempt
        before = stored_items()
        rig.faults.reset()
        rig.faults.inject(conflict, on_operation(operation, "FlowsTable"))
        lasting = rig.api.request(method, path, body={"id": rig.flow["id"], field: "second"})

        # Then it is 409 TRANSACTION_CONFLICT after the service's attempts, and nothing landed
        assert (lasting.status, lasting.code) == (409, "TRANSACTION_CONFLICT"), lasting.body
        assert len(rig.faults.faulted) == writes.TRANSACTION_ATTEMPTS
        assert stored_items() == before
        figures(conflicts_absorbed=conflicts, attempts_before_409=len(rig.faults.faulted))


class TestFailureBetweenReadAndWrite:
    @pytest.mark.parametrize("route", WRITES_AFTER_A_READ, ids=by_name)
    def test_a_write_failing_after_its_read_is_503_and_leaves_every_table_as_it_was(
        self, route: RouteRequest, rig: Rig, figures: Figures
    ) -> None:
        # Given a store with published flows
        before = stored_items()

        def flow_write(call: Call) -> bool:
            return call.operation in {"TransactWriteItems", "UpdateItem", "PutItem"} and call.touches("FlowsTable")

        for failure, answer in FAILURES.items():
            # When the request's read works and its write fails on every attempt
            rig.faults.reset()
            rig.faults.lift()
            rig.faults.inject(answer(), flow_write)
            response = route.send(rig.api, rig.flow)

            # Then the read went through, the SDK retried the write, and the answer is a 503 problem
            reads = [call for call in rig.faults.calls if call.operation in {"GetItem", "BatchGetItem"}]
            assert reads, "the request reads before it writes"
            assert reads[0].index < rig.faults.faulted[0].index
            assert len(rig.faults.faulted) == rig.sdk_attempts, failure
            assert_store_busy(response)
            # And flow, versions, counters, key reservations, history and live entries are untouched
            assert stored_items() == before

        # And once the store answers again, the same request succeeds
        rig.faults.lift()
        assert route.send(rig.api, rig.flow).status == route.succeeds_with
        assert_store_consistent(rig.api)
        figures(attempts_of_each_failed_write=rig.sdk_attempts, failures=list(FAILURES))

    def test_a_single_write_whose_answer_was_lost_after_it_landed_succeeds(self, rig: Rig) -> None:
        # Given a rename (one conditional UpdateItem) whose first attempt lands but whose answer is lost
        rig.faults.inject(
            error("InternalServerError", status=500), on_operation("UpdateItem", "FlowsTable"), 1, reaches_store=True
        )

        # When it is sent (the SDK resends it)
        response = rig.api.update(id=rig.flow["id"], name="Renamed")

        # Then the rename landed once and the client is told so
        stored = rig.api.get(id=rig.flow["id"]).body
        assert (stored["name"], stored["rowVersion"]) == ("Renamed", rig.flow["rowVersion"] + 1)
        assert rig.faults.attempts_of("UpdateItem", "FlowsTable") == 2
        assert response.status == 200, response.body


class TestStreamConsumer:
    @staticmethod
    def history_write_of(flow_id: str, row_version: int) -> Callable[[Call], bool]:
        """The consumer's history PutItem of one change: one flow, one rowVersion."""

        def matches(call: Call) -> bool:
            item = call.params.get("Item", {})
            return (
                call.operation == "PutItem"
                and call.touches("ChangesTable")
                and flow_id in item.get("PK", {}).get("S", "")
                and item.get("rowVersion", {}).get("N") == str(row_version)
            )

        return matches

    def test_a_record_that_always_fails_is_reported_alone_and_then_given_up(
        self, admin: Api, stream: StreamPoller, dynamodb: Any, faults: StoreFaults, figures: Figures
    ) -> None:
        # Given two flows whose creations and publishes share a batch, the doomed publish after the rest
        healthy = admin.create(key="healthy", name="Healthy", draftConfig=v2_config("a")).body
        doomed = admin.create(key="doomed", name="Doomed", draftConfig=v2_config("b")).body
        admin.publish(id=healthy["id"])
        doomed_publish = admin.publish(id=doomed["id"]).body
        records = stream.read()
        (doomed_at,) = [
            i
            for i, r in enumerate(records)
            if r["dynamodb"]["Keys"] == {"PK": {"S": f"T#tenant-a#F#{doomed['id']}"}, "SK": {"S": "FLOW"}}
            and r["eventName"] == "MODIFY"
        ]
        doomed_record = records[doomed_at]
        # ...and a history write of the doomed publish that DynamoDB always refuses
        faults.inject(
            error("InternalServerError", status=500),
            self.history_write_of(doomed["id"], doomed_publish["rowVersion"]),
        )

        # When the batch is handed to the consumer once
        result = template.handler("StreamFunction")({"Records": records}, LambdaContext())

        # Then only the doomed publish's record is reported; every other record was processed
        assert result == {"batchItemFailures": [{"itemIdentifier": doomed_record["dynamodb"]["SequenceNumber"]}]}
        assert [e["action"] for e in admin.history(healthy["id"]).body["data"]] == ["published", "created"]
        assert [e["action"] for e in admin.history(doomed["id"]).body["data"]] == ["created"]
        assert live_entries() == {"healthy": (1, True)}

        # When the poller delivers the batch as the event source mapping would
        faults.reset()
        given_up = stream.deliver(records)

        # Then it retries from the doomed record MaximumRetryAttempts times, each after the SDK's own
        # retries, then gives up on it and on what followed it in the batch (no other flow change)
        retries = template.stream_consumers()[0].maximum_retry_attempts
        assert given_up == records[doomed_at:]
        assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in given_up].count("FLOW") == 1
        assert len(faults.faulted) == (1 + retries) * sdk_attempts(dynamodb)
        assert len({call.index for call in faults.faulted}) == 1 + retries

        # And replayed once the store answers again (as from the failure queue), it lands once
        faults.lift()
        assert stream.deliver(given_up + given_up) == []
        assert [e["action"] for e in admin.history(doomed["id"]).body["data"]] == ["published", "created"]
        assert live_entries() == {"healthy": (1, True), "doomed": (1, True)}
        figures(deliveries=1 + retries, attempts_refused=len(faults.faulted))

    def test_a_throttled_live_write_is_retried_by_the_poller_and_lands_once(
        self, admin: Api, stream: StreamPoller, faults: StoreFaults
    ) -> None:
        # Given a publish whose live-entry transaction is cancelled for throttling twice
        flow = admin.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        admin.publish(id=flow["id"])
        faults.inject(cancelled("ThrottlingError"), on_operation("TransactWriteItems", "LiveTable"), 2)

        # When the stream is delivered
        given_up = stream.deliver()

        # Then nothing is given up, the live entry was written on the third try, and the retried
        # record's history entry is there once
        assert given_up == []
        assert len(faults.faulted) == 2
        assert {TABLES["LiveTable"]} <= faults.faulted[0].tables
        assert live_entries() == {"offers": (1, True)}
        assert [e["action"] for e in admin.history(flow["id"]).body["data"]] == ["published", "created"]


STORE_DOWN: dict[str, Callable[[], Answer]] = {
    "throttled": lambda: error("ProvisionedThroughputExceededException"),
    **FAILURES,
}
AUTHORIZER = "AuthorizerFunction"
HEALTH = "/api/v1/health"


@pytest.fixture
def api_key(dynamodb: Any) -> Iterator[str]:
    """An admin key of tenant-a, stored; the authorizer's repository made again on this test's client
    (it is built once per instance, and the faults watch this client)."""
    plaintext, record = new_api_key("tenant-a", Role.ADMIN, "faults", "test", datetime.now(UTC))
    ApiKeyRepository(dynamodb, TABLES["ApiKeysTable"]).put(record)
    authorizer = template.handler_module(AUTHORIZER)
    authorizer.api_keys.cache_clear()
    yield plaintext
    authorizer.api_keys.cache_clear()


def through_authorizer(route: RouteRequest, key: str) -> HttpResponse:
    """``route`` as API Gateway runs it: the authorizer first, with ``key``; the ids are placeholders
    (no request gets past authentication in these tests)."""
    placeholders = dict.fromkeys(["id", "rolling", "approved", "pending", "pending_hash", "scheduled"], "placeholder")
    headers = {"Authorization": f"Bearer {key}", "X-Tenant-Id": "tenant-a"}
    event = build_event(route.method, FLOW + route.path, caller=None, headers=headers, **route.args(placeholders))
    return invoke_through_authorizer(event)


class TestStoreDownAtAuthentication:
    @pytest.mark.parametrize("fault", STORE_DOWN, ids=str)
    def test_every_route_is_503_with_retry_after_when_the_key_cannot_be_looked_up(
        self, fault: str, api_key: str, faults: StoreFaults
    ) -> None:
        # Given a store whose API key table does not answer, on every attempt
        faults.inject(STORE_DOWN[fault](), on_operation("GetItem", "ApiKeysTable"))

        for route in REQUESTS:
            # When a request of each route comes with a valid key
            response = through_authorizer(route, api_key)

            # Then it is 503 STORE_BUSY, retryable once API Gateway's cached decision has expired
            assert_store_busy(response)
            # (the decision is whole seconds old: 59 when a second boundary passed since it was made)
            cache = auth_refusals.AUTHORIZER_CACHE_SECONDS
            assert int(response.headers["retry-after"]) in {cache - 1, cache}, route.name
        assert {call.operation for call in faults.calls} == {"GetItem"}, "no handler went on to the store"

        # And once the store answers again, the same key works
        faults.lift()
        assert through_authorizer(REQUESTS[0], api_key).status == 200

    def test_retry_after_counts_down_to_when_the_cached_decision_expires(
        self, api_key: str, faults: StoreFaults, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given an authorizer that could not look the key up, 45 s ago (API Gateway serves its cached answer)
        faults.inject(error("ThrottlingException"), on_operation("GetItem", "ApiKeysTable"))
        decided = invoke_authorizer_for(api_key)
        monkeypatch.setattr(auth_refusals, "clock", lambda: decided["decidedAt"] + 45.5)

        # When the cached decision reaches a handler
        response = invoke_with_decision(decided)

        # Then the client is told to come back when the gateway will ask the authorizer again
        assert_store_busy(response)
        assert response.headers["retry-after"] == str(auth_refusals.AUTHORIZER_CACHE_SECONDS - 45)

    def test_the_handlers_idea_of_the_cache_is_the_templates(self) -> None:
        (api,) = template.resources("AWS::Serverless::HttpApi").values()
        authorizer = api["Properties"]["Auth"]["Authorizers"]["CredentialAuthorizer"]
        assert authorizer["Identity"]["ReauthorizeEvery"] == auth_refusals.AUTHORIZER_CACHE_SECONDS


def invoke_authorizer_for(key: str) -> dict[str, Any]:
    event = build_event("GET", FLOW, caller=None, headers={"Authorization": f"Bearer {key}", "X-Tenant-Id": "tenant-a"})
    decision: dict[str, Any] = template.handler(AUTHORIZER)({**event, "type": "REQUEST"}, LambdaContext())
    assert decision["isAuthorized"] is True
    context: dict[str, Any] = decision["context"]
    assert context["authError"] == "STORE_BUSY"
    return context


def invoke_with_decision(context: dict[str, Any]) -> HttpResponse:
    event = build_event("GET", FLOW, caller=None, headers={"X-Tenant-Id": "tenant-a"}, query={"limit": "5"})
    event["requestContext"]["authorizer"] = {"lambda": context}
    return invoke(event)


class TestHealth:
    def test_health_answers_ok_when_the_store_answers(self, dynamodb: Any) -> None:
        response = invoke(build_event("GET", HEALTH, caller=None))
        assert (response.status, response.body) == (200, {"status": "ok"})

    @pytest.mark.parametrize("fault", STORE_DOWN, ids=str)
    def test_health_is_503_store_busy_when_the_store_does_not_answer(self, fault: str, faults: StoreFaults) -> None:
        # Given a store that does not answer
        faults.inject(STORE_DOWN[fault](), lambda _: True)

        # When the health check is asked
        response = invoke(build_event("GET", HEALTH, caller=None))

        # Then it says so as problem details, with Retry-After, not "ok" and not a 500
        assert_store_busy(response)
        assert faults.calls
        assert all(call.touches("FlowsTable") for call in faults.calls)

    def test_a_flood_of_health_checks_costs_one_read_per_few_seconds(self, dynamodb: Any, faults: StoreFaults) -> None:
        # Given a probe on a clock we move
        now = [1000.0]
        probe = StoreProbe(dynamodb, TABLES["FlowsTable"], clock=lambda: now[0])

        # When it is asked 50 times within the remembered span, then once after it
        for _ in range(50):
            probe.check()
        reads_within = faults.attempts_of("GetItem", "FlowsTable")
        now[0] += REMEMBER_SECONDS
        faults.inject(error("ThrottlingException"), lambda _: True)
        with pytest.raises(StoreUnavailable):
            probe.check()

        # Then the store was read once, then once more; and the refusal is remembered as well
        assert reads_within == 1
        faults.reset()
        faults.lift()
        with pytest.raises(StoreUnavailable):
            probe.check()
        assert faults.attempts == []
        now[0] += REMEMBER_SECONDS
        probe.check()
