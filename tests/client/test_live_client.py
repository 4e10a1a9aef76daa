"""LiveClient against a fake /live/state over real HTTP: memory first, refreshes with If-None-Match,
last known good with stale_seconds when the service fails, backoff and Retry-After, bootstrap, and
the package's errors. The clock is the test's: ages and backoffs without sleeping."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from decision_flows_client import (
    AuthenticationError,
    FlowNotFoundError,
    LiveClient,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from tests.client.conftest import MAX_AGE
from tests.client.fake_service import API_KEY, TENANT, Canned, FakeClock, FakeLiveService, state_answer

MakeClient = Callable[..., LiveClient]


def read_offers(service: FakeLiveService, make_client: MakeClient, **options: float) -> LiveClient:
    """A client that has read version 3 of "offers" (one request)."""
    service.publish(state_answer("offers", 3))
    client = make_client(**options)
    assert client.get("offers").version == 3
    return client


def test_decisions_come_from_memory_within_max_age(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    # Given a key with a 30 % rollout
    service.publish(state_answer("offers", 3, challenger=4, percent=30))
    client = make_client()

    # When many subjects are decided within max_age
    decisions = [client.get("offers", f"customer-{n}") for n in range(1_000)]
    clock.advance(MAX_AGE - 0.001)
    decisions.append(client.get("offers", "late-customer"))

    # Then one request served them all, with the credentials of the contract, and both versions were served
    (request,) = service.requests_for("offers")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["x-tenant-id"] == TENANT
    assert "if-none-match" not in request.headers
    assert {(d.version, d.role) for d in decisions} == {(3, "champion"), (4, "challenger")}
    assert {d.stale_seconds for d in decisions} == {0.0}
    assert client.get("offers").role == "champion"


def test_a_due_refresh_sends_the_etag_and_a_304_keeps_the_state_for_another_max_age(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    service.publish(state_answer("offers", 3))
    client = make_client()
    first = client.get("offers")

    # When max_age has passed, twice, with the state unchanged
    clock.advance(MAX_AGE)
    second = client.get("offers")
    clock.advance(MAX_AGE - 1)
    third = client.get("offers")

    # Then the refresh asked with the ETag, got 304, and the next max_age needed no request
    _, refresh = service.requests_for("offers")
    assert refresh.headers["if-none-match"] == service.etag("offers")
    assert first == second == third
    assert third.stale_seconds == 0.0


def test_a_changed_state_is_served_after_the_refresh(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    # Given a client that read version 3
    service.publish(state_answer("offers", 3))
    client = make_client()
    assert client.get("offers").version == 3

    # When version 4 goes live (a promote or rollback) and max_age passes
    service.publish(state_answer("offers", 4))
    clock.advance(MAX_AGE / 2)
    before = client.get("offers")
    clock.advance(MAX_AGE / 2)

    # Then the client answers version 4 from the first call after max_age
    assert before.version == 3
    assert client.get("offers").version == 4
    assert len(service.requests_for("offers")) == 2


@pytest.mark.parametrize(
    "failure",
    [Canned(503, {"Retry-After": "1"}), Canned(500), Canned(429, {"Retry-After": "1"}), Canned(200, {}, b"<html>")],
    ids=["503", "500", "429", "unreadable 200"],
)
def test_a_failed_refresh_answers_the_last_known_state_with_stale_seconds(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock, failure: Canned
) -> None:
    service.publish(state_answer("offers", 3, challenger=4, percent=50))
    client = make_client()
    fresh = client.get("offers", "customer-7")

    # When the refresh, 20 s after the read (5 s past max_age), fails
    service.script.append(failure)
    clock.advance(MAX_AGE + 5)
    stale = client.get("offers", "customer-7")

    # Then the same decision, saying for how long it is past max_age
    assert (stale.version, stale.role, stale.config) == (fresh.version, fresh.role, fresh.config)
    assert stale.stale_seconds == 5.0
    clock.advance(0.25)
    assert client.get("offers", "customer-7").stale_seconds == 5.25
    assert len(service.requests_for("offers")) == 2


def stop_answering(service: FakeLiveService) -> None:
    service.open.clear()


@pytest.mark.parametrize("outage", [stop_answering, FakeLiveService.stop], ids=["timeout", "connection refused"])
def test_an_unreachable_service_leaves_the_last_known_state_answering(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock, outage: Callable[[FakeLiveService], None]
) -> None:
    client = read_offers(service, make_client, timeout=0.2)

    # When the service stops answering within the timeout, or listening at all, and max_age has passed
    outage(service)
    clock.advance(MAX_AGE + 2)
    decision = client.get("offers")

    # Then the client keeps answering version 3, 2 s past max_age
    assert (decision.version, decision.stale_seconds) == (3, 2.0)


def test_backoff_honours_retry_after_and_then_refreshes(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    client = read_offers(service, make_client)

    # Given a refresh refused with 429 and Retry-After: 30
    service.script.append(Canned(429, {"Retry-After": "30"}))
    clock.advance(MAX_AGE)
    client.get("offers")
    assert len(service.requests_for("offers")) == 2

    # When calls keep coming for 29.9 s
    for _ in range(10):
        clock.advance(2.99)
        client.get("offers")

    # Then none of them asked the service; the first call at 30 s does, and the state is fresh again
    assert len(service.requests_for("offers")) == 2
    clock.advance(0.1)
    assert client.get("offers").stale_seconds == 0.0
    assert len(service.requests_for("offers")) == 3


def test_failures_in_a_row_back_off_further_each_time(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    client = read_offers(service, make_client)
    service.script.extend(Canned(503) for _ in range(5))
    clock.advance(MAX_AGE)

    # When the service fails 5 times in a row, and the client is called every 0.01 s
    asked_at: list[float] = []
    while len(asked_at) < 6:
        client.get("offers")
        if len(service.requests_for("offers")) - 1 > len(asked_at):
            asked_at.append(clock.now)
        clock.advance(0.01)

    # Then it retried after 1, 2, 4, 8, 16 s, each drawn between half and all of it, then caught up
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked_at)]
    for failures, gap in enumerate(gaps, start=1):
        assert 2 ** (failures - 1) / 2 <= gap <= 2 ** (failures - 1) + 0.02, gaps
    assert client.get("offers").stale_seconds == 0.0


def test_a_key_never_read_raises_when_the_service_cannot_be_read(
    service: FakeLiveService, make_client: MakeClient
) -> None:
    service.publish(state_answer("offers", 3))
    service.script.append(Canned(503))
    client = make_client()

    with pytest.raises(ServiceUnavailableError, match="HTTP 503"):
        client.get("offers")
    # and within the backoff the next call raises without asking again
    with pytest.raises(ServiceUnavailableError):
        client.get("offers")
    assert len(service.requests_for("offers")) == 1


def test_a_bootstrap_state_is_refreshed_on_first_use(
    service: FakeLiveService, make_client: MakeClient, tmp_path: Path
) -> None:
    # Given a bootstrap file saved at version 3 while the service now serves 4
    bootstrap = tmp_path / "live-states.json"
    bootstrap.write_text(json.dumps([state_answer("offers", 3), state_answer("banners", 1)]))
    service.publish(state_answer("offers", 4))

    # When the client starts from it
    decision = make_client(bootstrap=bootstrap).get("offers")

    # Then the first use refreshed it
    assert (decision.version, decision.stale_seconds) == (4, 0.0)
    assert len(service.requests_for("offers")) == 1


def test_a_bootstrap_state_answers_while_the_service_is_down(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock, tmp_path: Path
) -> None:
    bootstrap = tmp_path / "live-states.json"
    bootstrap.write_text(json.dumps([state_answer("offers", 3, challenger=4, percent=100)]))
    service.stop()

    # When a client starting from the file is used 3 s later
    client = make_client(bootstrap=bootstrap)
    clock.advance(3)
    decision = client.get("offers", "customer-1")

    # Then the saved state answers, counted stale since the client started; a key not in it raises
    assert (decision.version, decision.role, decision.stale_seconds) == (4, "challenger", 3.0)
    with pytest.raises(ServiceUnavailableError):
        client.get("banners")


def test_saved_states_make_a_bootstrap_file(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock, tmp_path: Path
) -> None:
    # Given a client that has read two keys, one of them during a rollout
    service.publish(state_answer("offers", 3, challenger=4, percent=30, include=["qa-1"]))
    service.publish(state_answer("banners", 1))
    client = make_client()
    before = [client.get("offers", "qa-1"), client.get("banners")]

    # When its states are saved, and a client starts from them while the service is down
    bootstrap = tmp_path / "live-states.json"
    bootstrap.write_text(json.dumps(client.saved_states()))
    service.stop()
    restarted = make_client(bootstrap=bootstrap)

    # Then it answers as the first one did, stale since it started
    after = [restarted.get("offers", "qa-1"), restarted.get("banners")]
    assert [(d.key, d.version, d.role, d.config) for d in after] == [
        (d.key, d.version, d.role, d.config) for d in before
    ]
    assert {d.stale_seconds for d in after} == {0.0}
    clock.advance(1)
    assert restarted.get("banners").stale_seconds == 1.0


def test_a_key_the_service_does_not_serve_raises_not_found_once_per_max_age(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client()

    with pytest.raises(FlowNotFoundError) as raised:
        client.get("missing")
    with pytest.raises(FlowNotFoundError):
        client.get("missing")

    assert (raised.value.status, raised.value.code) == (404, "LIVE_FLOW_NOT_FOUND")
    assert len(service.requests_for("missing")) == 1
    # and once it is published, the first call after max_age serves it
    service.publish(state_answer("missing", 1))
    clock.advance(MAX_AGE)
    assert client.get("missing").version == 1


def test_a_flow_deactivated_after_it_was_read_raises_not_found(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    client = read_offers(service, make_client)

    # When the flow is paused (its /live/state is 404) and max_age passes
    del service.states["offers"]
    clock.advance(MAX_AGE)

    # Then the client does not execute the old version: the service says nothing is to be executed
    with pytest.raises(FlowNotFoundError):
        client.get("offers")
    with pytest.raises(FlowNotFoundError):
        client.get("offers")
    assert len(service.requests_for("offers")) == 2


@pytest.mark.parametrize(
    ("api_key", "tenant", "error", "status"),
    [("sk_wrong", TENANT, AuthenticationError, 401), (API_KEY, "tenant-b", PermissionDeniedError, 403)],
)
def test_refused_credentials_raise_the_packages_errors(
    service: FakeLiveService,
    base_url: str,
    clock: FakeClock,
    api_key: str,
    tenant: str,
    error: type[Exception],
    status: int,
) -> None:
    service.publish(state_answer("offers", 3))
    client = LiveClient(base_url, api_key, tenant, clock=clock)

    with pytest.raises(error) as raised:
        client.get("offers")
    with pytest.raises(error):
        client.get("offers")

    assert getattr(raised.value, "status", None) == status
    assert len(service.requests_for("offers")) == 1  # refused credentials back off too


def test_keys_are_sent_url_encoded(service: FakeLiveService, make_client: MakeClient) -> None:
    service.publish(state_answer("a&b=c d", 2))

    assert make_client().get("a&b=c d").version == 2


def test_keys_past_max_keys_push_out_the_least_recently_used(
    service: FakeLiveService, make_client: MakeClient, clock: FakeClock
) -> None:
    # Given a client that remembers two keys, and has read "offers" and then "banners"
    service.publish(state_answer("offers", 3))
    service.publish(state_answer("banners", 1))
    client = make_client(max_keys=2)
    client.get("offers")
    client.get("banners")
    clock.advance(MAX_AGE)
    client.get("offers")  # refreshed: now the most recently used

    # When a caller asks for a key nobody publishes (a typo, or a key taken from its input)
    with pytest.raises(FlowNotFoundError):
        client.get("no-such-key")

    # Then the least recently used key was pushed out, and the other kept
    assert [state["key"] for state in client.saved_states()] == ["offers"]

    # And however many such keys come, the client holds two: a pushed-out key is read afresh when asked
    for n in range(50):
        with pytest.raises(FlowNotFoundError):
            client.get(f"no-such-key-{n}")
    assert client.saved_states() == []
    client.get("banners")
    assert len(service.requests_for("banners")) == 2


def test_max_keys_is_at_least_one(make_client: MakeClient) -> None:
    with pytest.raises(ValueError, match="max_keys"):
        make_client(max_keys=0)
