"""`make serve` as a newcomer uses it for a long while: hundreds of writes, a fifth of them refused,
``/live`` read in between, on the embedded store and against ``DYNAMODB_ENDPOINT_URL``; and restarts
against a kept store.

At the end every flow's history holds exactly one entry per successful write, in order, and ``/live``
serves every flow's live version: the in-process stream consumer never lost the stream.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import boto3
import pytest

from decision_flows_local.fixtures.samples import v2_config
from tests.support import moto_server
from tests.support.local_server import ADMIN_KEY, Server, free_port, running_server, start
from tests.support.waiting import eventually

FLOWS = "/api/v1/decision-flows"
SESSION_WRITES = 250
REFUSED_SHARE = 0.2
# After the first refusals of each kind, the next write's history entry is awaited: within a second.
TIMED_AFTER_REFUSALS = 2
REACHING_THE_STORE = ("taken key on create", "taken key on update")


@dataclass
class FlowModel:
    """What the contract says a flow is after the session's successful writes."""

    id: str
    key: str
    row_version: int = 1
    actions: list[str] = field(default_factory=lambda: ["created"])
    versions: list[str] = field(default_factory=list)  # the config label of each version, v1 first
    live: int | None = None
    draft: str = ""


@pytest.fixture(params=["embedded", "endpoint"])
def session_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    env = {"RATE_LIMIT_PER_MINUTE": "0"}
    if request.param == "endpoint":
        url = request.getfixturevalue("endpoint")
        moto_server.reset(url)
        env["DYNAMODB_ENDPOINT_URL"] = url
    with running_server(**env) as server:
        yield server


def history(server: Server, flow_id: str) -> list[dict[str, Any]]:
    status, body = server.call("GET", f"{FLOWS}/history?id={flow_id}&limit=100")
    assert status == 200, body
    assert not body["pagination"]["hasMore"]
    return list(reversed(body["data"]))


def history_reaches(server: Server, flow: FlowModel) -> bool:
    return [entry["rowVersion"] for entry in history(server, flow.id)] == list(range(1, flow.row_version + 1))


class Session:
    def __init__(self, server: Server, seed: int) -> None:
        self.server = server
        self.random = random.Random(seed)  # noqa: S311 (a reproducible session, not a secret)
        self.flows: list[FlowModel] = []
        self.refused: Counter[str] = Counter()
        self.succeeded = 0
        self.live_reads = 0

    def create(self, key: str) -> None:
        label = f"{key}-0"
        status, body = self.server.call("POST", FLOWS, body={"key": key, "name": key, "draftConfig": v2_config(label)})
        assert status == 201, body
        self.flows.append(FlowModel(body["id"], key, draft=label))
        self.succeeded += 1

    def write(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        return self.server.call(method, f"{FLOWS}{path}", body=body)

    def succeed(self, flow: FlowModel, action: str) -> None:
        self.succeeded += 1
        flow.row_version += 1
        flow.actions.append(action)

    def one_success(self, flow: FlowModel) -> str:
        choice = self.random.choice(["edit", "publish", "rollback", "rename"])
        live_label = flow.versions[flow.live - 1] if flow.live else None
        targets = [n for n, label in enumerate(flow.versions, 1) if label != live_label]
        if choice == "rollback" and targets:
            target = self.random.choice(targets)
            status, body = self.write("POST", "/rollback", {"id": flow.id, "version": target})
            assert status == 200, body
            flow.versions.append(flow.versions[target - 1])
            flow.draft, flow.live = flow.versions[-1], len(flow.versions)
            self.succeed(flow, "rolled_back")
        elif choice in ("publish", "rollback"):
            status, body = self.write("POST", "/publish", {"id": flow.id, "rowVersion": flow.row_version})
            assert status == 200, body
            flow.versions.append(flow.draft)
            flow.live = len(flow.versions)
            self.succeed(flow, "published")
        elif choice == "edit":
            flow.draft = f"{flow.key}-{flow.row_version}"
            status, body = self.write("PUT", "", {"id": flow.id, "draftConfig": v2_config(flow.draft)})
            assert status == 200, body
            self.succeed(flow, "updated")
        else:
            status, body = self.write("PUT", "", {"id": flow.id, "name": f"{flow.key} {flow.row_version}"})
            assert status == 200, body
            self.succeed(flow, "updated")
        return choice

    def one_refusal(self, flow: FlowModel) -> str:
        other = self.random.choice([f for f in self.flows if f is not flow])
        # Two in three reach DynamoDB (a cancelled transaction); the others are refused before it.
        kind = self.random.choice([*REACHING_THE_STORE, *REACHING_THE_STORE, "stale rowVersion", "refused delete"])
        if kind == "taken key on create":
            status, body = self.write("POST", "", {"key": other.key, "name": "again"})
            expected = "KEY_TAKEN"
        elif kind == "taken key on update":
            status, body = self.write("PUT", "", {"id": flow.id, "key": other.key})
            expected = "KEY_TAKEN"
        elif kind == "stale rowVersion":
            status, body = self.write(
                "PUT", "", {"id": flow.id, "name": "late", "rowVersion": flow.row_version - 1 or 2}
            )
            expected = "ROW_VERSION_MISMATCH"
        else:
            reply = self.server.send(
                "DELETE", f"{FLOWS}?id={flow.id}", headers={"If-Match": f'"{flow.row_version + 1}"'}
            )
            status, body = reply.status, reply.json()
            expected = "ROW_VERSION_MISMATCH"
        assert (status, body["code"]) == (409, expected), body
        self.refused[kind] += 1
        return kind

    def read_live(self) -> None:
        published = [flow for flow in self.flows if flow.live]
        if not published:
            return
        flow = self.random.choice(published)
        status, body = self.server.call("GET", f"{FLOWS}/live?key={flow.key}")
        # The consumer may not have had the latest publish yet: any version up to the live one.
        assert status == 200, body
        assert body["version"] <= flow.live
        self.live_reads += 1


@pytest.mark.parametrize("seed", [13])
def test_a_long_session_with_refusals_keeps_history_and_live_exact(session_server: Server, seed: int) -> None:
    # Given a dozen flows
    session = Session(session_server, seed)
    for n in range(12):
        session.create(f"flow-{n}")

    # When hundreds of writes follow, a fifth of them refused, with /live read in between
    timed: Counter[str] = Counter()
    awaiting: str | None = None
    while session.succeeded + sum(session.refused.values()) < SESSION_WRITES:
        flow = session.random.choice(session.flows)
        if session.random.random() < REFUSED_SHARE:
            kind = session.one_refusal(flow)
            awaiting = kind if timed[kind] < TIMED_AFTER_REFUSALS else awaiting
            continue
        session.one_success(flow)
        if awaiting is not None:
            # The write after a refusal reaches history within a second.
            assert eventually(partial(history_reaches, session_server, flow), seconds=1.0), awaiting
            timed[awaiting] += 1
            awaiting = None
        if session.random.random() < 0.3:
            session.read_live()

    # Then every flow's history has exactly one entry per successful write, in order
    assert set(session.refused) == {"taken key on create", "taken key on update", "stale rowVersion", "refused delete"}
    assert sum(session.refused.values()) >= SESSION_WRITES * REFUSED_SHARE * 0.7
    assert sum(session.refused[kind] for kind in REACHING_THE_STORE) >= SESSION_WRITES * REFUSED_SHARE * 0.5
    for flow in session.flows:
        assert eventually(partial(history_reaches, session_server, flow), seconds=10), flow.key
        assert [entry["action"] for entry in history(session_server, flow.id)] == flow.actions

    # And /live serves every flow's live version
    for flow in session.flows:
        if flow.live:
            status, live = session_server.call("GET", f"{FLOWS}/live?key={flow.key}")
            assert (status, live["version"]) == (200, flow.live)

    # And the consumer kept up, gave up on nothing, and never failed a poll
    health = session_server.send("GET", "/api/v1/health", key=None).json()["streamConsumer"]
    assert (health["keepingUp"], health["recordsGivenUp"], health["consecutiveFailures"]) == (True, 0, 0)
    assert health["lastError"] is None
    assert "Traceback" not in "".join(session_server.output)


def test_the_endpoint_store_holds_no_entry_of_a_refused_write(endpoint: str) -> None:
    # Given a server against a moto server, a flow, and creates refused for its taken key
    moto_server.reset(endpoint)
    with running_server(DYNAMODB_ENDPOINT_URL=endpoint) as server:
        session = Session(server, seed=1)
        session.create("only")
        session.create("other")
        for _ in range(5):
            assert server.call("POST", FLOWS, body={"key": "only", "name": "again"})[1]["code"] == "KEY_TAKEN"
            assert server.call("PUT", FLOWS, body={"id": session.flows[1].id, "key": "only"})[1]["code"] == "KEY_TAKEN"
        session.one_success(session.flows[0])
        assert eventually(lambda: history_reaches(server, session.flows[0]), seconds=1.0)

        # Then the change table holds the successful writes' entries and nothing else
        changes = boto3.client("dynamodb", endpoint_url=endpoint).scan(TableName="ChangesTable", Select="COUNT")
        assert changes["Count"] == 3


class TestRestartAgainstAKeptStore:
    def test_the_same_keys_just_work_and_history_carries_on(self, endpoint: str) -> None:
        # Given a session against a kept store that wrote a flow and its history
        moto_server.reset(endpoint)
        with running_server(DYNAMODB_ENDPOINT_URL=endpoint) as first:
            status, flow = first.call("POST", FLOWS, body={"key": "kept", "name": "Kept", "draftConfig": v2_config()})
            assert status == 201
            assert first.call("POST", f"{FLOWS}/publish", body={"id": flow["id"]})[0] == 200
            assert eventually(lambda: len(history(first, flow["id"])) == 2)

        # When make serve starts again with the same LOCAL_API_KEYS
        with running_server(DYNAMODB_ENDPOINT_URL=endpoint) as second:
            # Then it says the keys were already there, serves the flow, and history goes on without repeats
            assert any("tenant-a:admin (already stored)" in line for line in second.banner)
            assert second.call("GET", f"{FLOWS}?id={flow['id']}")[1]["liveVersion"] == 1
            assert second.call("PUT", FLOWS, body={"id": flow["id"], "name": "Kept again"})[0] == 200
            assert eventually(lambda: len(history(second, flow["id"])) == 3)
            assert [entry["action"] for entry in history(second, flow["id"])] == ["created", "published", "updated"]
            assert second.call("GET", f"{FLOWS}/live?key=kept")[1]["version"] == 1

    def test_a_stored_key_with_another_grant_is_a_clear_error(self, endpoint: str) -> None:
        # Given a kept store that holds the admin key as tenant-a's admin
        moto_server.reset(endpoint)
        with running_server(DYNAMODB_ENDPOINT_URL=endpoint):
            pass

        # When make serve starts with the same key for another role
        process = start(free_port(), DYNAMODB_ENDPOINT_URL=endpoint, LOCAL_API_KEYS=f"{ADMIN_KEY}=tenant-a:viewer")
        output, _ = process.communicate(timeout=60)

        # Then it stops with an error that names the stored key, not a traceback
        assert process.returncode == 1
        assert "is already stored as key_" in output
        assert "(tenant-a:admin), not as tenant-a:viewer" in output
        assert "Traceback" not in output


def test_a_store_that_goes_away_is_logged_once_and_shown_by_health() -> None:
    # Given a server against a moto server of its own, with a write the consumer has had
    with moto_server.moto_server() as store, running_server(DYNAMODB_ENDPOINT_URL=store.url) as server:
        status, flow = server.call("POST", FLOWS, body={"key": "k", "name": "K", "draftConfig": v2_config()})
        assert status == 201
        assert eventually(lambda: len(history(server, flow["id"])) == 1)

        # When the store stops answering
        store.stop()

        def consumer() -> dict[str, Any]:
            state: dict[str, Any] = server.send("GET", "/api/v1/health", key=None).json()["streamConsumer"]
            return state

        assert eventually(lambda: consumer()["consecutiveFailures"] >= 3, seconds=30)

        # Then health says the store does not answer, that the consumer is not keeping up, and why;
        # the log says it once, not per poll
        answer = server.send("GET", "/api/v1/health", key=None)
        assert (answer.status, answer.json()["code"]) == (503, "STORE_BUSY")
        state = consumer()
        assert state["keepingUp"] is False
        assert "Could not connect" in state["lastError"]["message"]
        logged = [line for line in "".join(server.output).splitlines() if "stream poll failed" in line]
        assert logged
        assert len(logged) == len(set(logged)), "a cause logged more than once"
