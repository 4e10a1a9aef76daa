"""decision-flows-client against `make serve`'s server over real HTTP: it assigns subjects exactly as
the server's /live does, follows a rollback, and keeps answering while the server is down."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from decision_flows_client import LiveClient
from decision_flows_local.fixtures.samples import v2_config
from tests.support.local_server import VIEWER_KEY, Server, running_server, start, wait_until_ready
from tests.support.moto_server import moto_server
from tests.support.waiting import eventually

API = "/api/v1/decision-flows"
SUBJECTS = [f"customer-{n}" for n in range(1_000)]


def rolled_out(server: Server, key: str, rollout: dict[str, Any]) -> str:
    """A flow at ``key`` with v1 live and v2 its challenger under ``rollout``, as runtime reads see it."""
    status, flow = server.call("POST", API, body={"key": key, "name": key, "draftConfig": v2_config("a")})
    assert status == 201
    assert server.call("POST", f"{API}/publish", body={"id": flow["id"]})[0] == 200
    server.call("PUT", API, body={"id": flow["id"], "draftConfig": v2_config("b")})
    assert server.call("POST", f"{API}/publish", body={"id": flow["id"], "rollout": rollout})[0] == 200
    assert eventually(lambda: bool((server.call("GET", f"{API}/live/state?key={key}")[1] or {}).get("challenger")))
    return str(flow["id"])


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Server]:
    with running_server(RUNTIME_RATE_LIMIT_PER_SECOND="0") as started:
        yield started


def test_the_client_assigns_every_subject_as_the_servers_live_does(shared_server: Server) -> None:
    # Given a 30 % rollout with one subject forced in and one kept out
    rolled_out(shared_server, "parity", {"percent": 30, "include": ["customer-7"], "exclude": ["customer-8"]})
    client = LiveClient(shared_server.base, VIEWER_KEY, "tenant-a")

    # When the client and the server decide for the same subjects
    ours = [(d.version, d.role) for d in (client.get("parity", s) for s in SUBJECTS)]
    theirs = [
        (answer["version"], answer["role"])
        for answer in (shared_server.call("GET", f"{API}/live?key=parity&subject={s}", VIEWER_KEY)[1] for s in SUBJECTS)
    ]

    # Then they agree on every one, overrides included, and the split is a real one
    assert ours == theirs
    assert (ours[7], ours[8]) == ((2, "challenger"), (1, "champion"))
    assert 200 < sum(role == "challenger" for _, role in ours) < 400


def test_the_client_follows_a_rollback_within_max_age(shared_server: Server) -> None:
    # Given a client holding a key whose challenger some subjects get
    flow_id = rolled_out(shared_server, "follow", {"percent": 50})
    client = LiveClient(shared_server.base, VIEWER_KEY, "tenant-a", max_age=0.2)
    assert {client.get("follow", s).version for s in SUBJECTS[:50]} == {1, 2}

    # When an admin rolls back to v1 (which ends the rollout: v3, a copy of v1, for everyone)
    assert shared_server.call("POST", f"{API}/rollback", body={"id": flow_id, "version": 1})[0] == 200

    # Then the client's answers move to v3 for every subject, with no call but get()
    assert eventually(lambda: {client.get("follow", s).version for s in SUBJECTS[:50]} == {3})
    assert client.get("follow", "anyone").config == v2_config("a")


def test_the_client_answers_while_the_server_is_down_and_catches_up_after() -> None:
    # Given a server over a store that outlives it, and a client that has read a key
    with moto_server() as store:
        environment = {"DYNAMODB_ENDPOINT_URL": store.url}
        with running_server(**environment) as first:
            flow_id = rolled_out(first, "outage", {"percent": 10})
            client = LiveClient(first.base, VIEWER_KEY, "tenant-a", max_age=0.2, timeout=0.5)
            assert client.get("outage").version == 1
            first.stop()

            # When the server is gone past max_age
            assert eventually(lambda: client.get("outage").stale_seconds > 0.3)

            # Then it still answers v1, and says how stale that is
            assert (client.get("outage").version, client.get("outage").role) == (1, "champion")

            # When the server comes back on the same address and v2 is promoted meanwhile
            process = start(int(first.base.rsplit(":", 1)[1]), **environment)
            second = Server(process, first.base, wait_until_ready(process))
            try:
                assert second.call("POST", f"{API}/rollout/promote", body={"id": flow_id})[0] == 200

                # Then the client catches up (its retry waits out a backoff of at most a few seconds)
                assert eventually(lambda: client.get("outage").version == 2, seconds=30)
                assert client.get("outage").stale_seconds == 0.0
            finally:
                second.stop()
