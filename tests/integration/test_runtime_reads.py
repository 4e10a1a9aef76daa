"""The runtime read path (/live and /live/state) through LiveFunction's handler against moto: a key's
whole live state with its ETag, Cache-Control, answers kept per state, and a budget of its own that
never spends the management limit and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.dal import items
from decision_flows.dal.client import dynamodb_client
from decision_flows.web import access, runtime
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.support.dynamodb_calls import DynamoCalls

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
SECOND = 1_800_000_000.0


def state(api: Api, key: str = "offers", **headers: str) -> HttpResponse:
    return api.request("GET", "/live/state", query={"key": key}, headers=headers)


def live(api: Api, key: str = "offers", **headers: str) -> HttpResponse:
    return api.request("GET", "/live", query={"key": key}, headers=headers)


def rolling_out(admin: Api, stream: StreamPoller, percent: float = 30) -> dict[str, Any]:
    """Flow "offers": v1 (config "a") the champion, v2 (config "b") the challenger at ``percent``."""
    flow: dict[str, Any] = admin.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
    assert admin.publish(id=flow["id"]).status == 200
    assert admin.update(id=flow["id"], draftConfig=v2_config("b")).status == 200
    started = admin.publish(id=flow["id"], rollout={"percent": percent})
    assert started.status == 200, started.body
    stream.deliver()
    return flow


def with_overrides(dynamodb: Any, include: list[str], exclude: list[str]) -> None:
    """The live pointer as the write side stores overrides (lists of strings "include" and "exclude")."""
    (item,) = dynamodb.scan(TableName="LiveTable")["Items"]
    item |= items.to_wire({"include": include, "exclude": exclude})
    dynamodb.put_item(TableName="LiveTable", Item=item)


class TestLiveState:
    def test_the_state_holds_both_versions_with_their_configs_share_and_overrides(
        self, admin: Api, viewer: Api, stream: StreamPoller, dynamodb: Any
    ) -> None:
        # Given a rollout at 30 % whose pointer names overrides
        flow = rolling_out(admin, stream)
        with_overrides(dynamodb, ["qa-1"], ["vip-1", "vip-2"])

        # When a viewer reads the key's state
        response = state(viewer)

        # Then it holds champion and challenger, their configs parsed, the share and the overrides
        assert response.status == 200, response.body
        body = response.body
        assert (body["flowId"], body["key"]) == (flow["id"], "offers")
        assert (body["champion"]["version"], body["champion"]["config"]) == (1, v2_config("a"))
        challenger = body["challenger"]
        assert (challenger["version"], challenger["config"], challenger["percent"]) == (2, v2_config("b"), 30)
        assert (challenger["include"], challenger["exclude"]) == (["qa-1"], ["vip-1", "vip-2"])
        assert {"publishedAt"} <= body["champion"].keys() & challenger.keys()
        assert response.headers["cache-control"] == "no-cache"

    def test_without_a_rollout_the_challenger_is_null_and_old_pointers_have_no_overrides(
        self, admin: Api, viewer: Api, stream: StreamPoller
    ) -> None:
        flow = admin.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        assert admin.publish(id=flow["id"]).status == 200
        stream.deliver()

        body = state(viewer).body

        assert (body["champion"]["version"], body["challenger"]) == (1, None)

    def test_the_etag_changes_with_the_share_and_the_overrides_and_a_poll_that_names_it_is_304(
        self, admin: Api, viewer: Api, stream: StreamPoller, dynamodb: Any
    ) -> None:
        # Given the state of a rollout at 30 %
        flow = rolling_out(admin, stream)
        first = state(viewer)
        etag = first.headers["etag"]

        # When a poll names its ETag, then it is 304 with no body, still no-cache
        polled = state(viewer, **{"If-None-Match": etag})
        assert (polled.status, polled.body, polled.headers["etag"]) == (304, None, etag)
        assert polled.headers["cache-control"] == "no-cache"

        # And when the share changes, or the overrides, the state has a new ETag and a full answer
        assert admin.request("POST", "/rollout", body={"id": flow["id"], "percent": 40}).status == 200
        stream.deliver()
        moved = state(viewer, **{"If-None-Match": etag})
        assert (moved.status, moved.body["challenger"]["percent"]) == (200, 40)
        with_overrides(dynamodb, [], ["vip-1"])
        overridden = state(viewer, **{"If-None-Match": moved.headers["etag"]})
        assert (overridden.status, overridden.body["challenger"]["exclude"]) == (200, ["vip-1"])
        assert len({etag, moved.headers["etag"], overridden.headers["etag"]}) == 3

    def test_an_unknown_key_is_404_and_a_bad_one_400(self, viewer: Api) -> None:
        assert (state(viewer, "nobody").status, state(viewer, "nobody").code) == (404, "LIVE_FLOW_NOT_FOUND")
        assert state(viewer, "not a key!").status == 400


class TestLiveAnswers:
    def test_live_answers_say_no_cache_on_200_and_304(self, admin: Api, viewer: Api, stream: StreamPoller) -> None:
        rolling_out(admin, stream)

        served = live(viewer)
        polled = live(viewer, **{"If-None-Match": served.headers["etag"]})

        assert (served.status, polled.status) == (200, 304)
        assert served.headers["cache-control"] == polled.headers["cache-control"] == "no-cache"

    def test_overrides_pick_the_version_on_live(
        self, admin: Api, viewer: Api, stream: StreamPoller, dynamodb: Any
    ) -> None:
        # Given a rollout at the smallest share that includes QA's subject and excludes a customer
        rolling_out(admin, stream, percent=0.01)
        with_overrides(dynamodb, ["qa-1"], ["customer-1"])

        # Then QA gets the challenger and a customer the champion
        roles = {
            subject: viewer.request("GET", "/live", query={"key": "offers", "subject": subject}).body["role"]
            for subject in ("qa-1", "customer-1")
        }
        assert roles == {"qa-1": "challenger", "customer-1": "champion"}

    def test_a_warm_read_serves_the_kept_answer_without_reading_or_building_it_again(
        self, admin: Api, viewer: Api, stream: StreamPoller, dynamo_calls: DynamoCalls, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a key read once by this instance
        rolling_out(admin, stream)
        first = live(viewer)
        first_state = state(viewer)

        # When it is read again, with answers no longer buildable
        def unbuildable(*_: Any) -> str:
            raise AssertionError("a kept answer was built again")

        monkeypatch.setattr(runtime, "live_body", unbuildable)
        monkeypatch.setattr(runtime, "state_body", unbuildable)
        dynamo_calls.reset()
        again, again_state = live(viewer), state(viewer)

        # Then the same answers come back, for one small read each (the pointer)
        assert (again.body, again_state.body) == (first.body, first_state.body)
        assert dynamo_calls.operations == ["GetItem", "GetItem"]


@pytest.fixture
def pinned_second(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock of both limits, pinned: the runtime budget's second and the management limit's minute."""
    now = [SECOND]
    monkeypatch.setattr(runtime, "clock", lambda: now[0])
    monkeypatch.setattr(access, "clock", lambda: now[0])
    return now


def limits(monkeypatch: pytest.MonkeyPatch, per_minute: int, runtime_per_second: int) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", str(per_minute))
    monkeypatch.setenv("RUNTIME_RATE_LIMIT_PER_SECOND", str(runtime_per_second))
    wiring.reset()


class TestRuntimeBudget:
    def test_over_the_budget_is_429_with_retry_after_per_tenant_and_the_next_second_admits_again(
        self,
        admin: Api,
        viewer: Api,
        other_tenant: Api,
        stream: StreamPoller,
        pinned_second: list[float],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # Given a runtime budget of 3 reads a second
        rolling_out(admin, stream)
        limits(monkeypatch, per_minute=500, runtime_per_second=3)

        # When a tenant reads 4 times in one second (a 404 and a 304 count like a 200)
        etag = live(viewer).headers["etag"]
        statuses = [live(viewer, "nobody").status, live(viewer, **{"If-None-Match": etag}).status]
        refused = state(viewer)

        # Then the 4th is 429 RATE_LIMITED with Retry-After 1, and another tenant is not limited
        assert statuses == [404, 304]
        assert (refused.status, refused.code, refused.headers["retry-after"]) == (429, "RATE_LIMITED", "1")
        assert live(other_tenant, "offers").status == 404  # its own budget: it was read, not refused
        # And the next second admits the tenant again
        pinned_second[0] += 1
        assert live(viewer).status == 200

    def test_zero_turns_the_budget_off(
        self, admin: Api, viewer: Api, stream: StreamPoller, pinned_second: list[float], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rolling_out(admin, stream)
        limits(monkeypatch, per_minute=500, runtime_per_second=0)
        assert {live(viewer).status for _ in range(30)} == {200}

    def test_runtime_reads_spend_nothing_of_the_management_limit_and_an_admins_rollback_gets_through(
        self, admin: Api, viewer: Api, stream: StreamPoller, pinned_second: list[float], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a management limit of 5 a minute, its first request spent setting up the rollout's last write
        flow = rolling_out(admin, stream)
        limits(monkeypatch, per_minute=5, runtime_per_second=1000)

        # When runtime callers poll /live and /live/state far past it within the minute
        polls = [live(viewer).status for _ in range(20)] + [state(viewer).status for _ in range(20)]

        # Then every poll was served, and an admin's incident rollback is not 429
        assert set(polls) == {200}
        rollback = admin.rollback(id=flow["id"], version=1)
        assert rollback.status == 200, rollback.body

    def test_a_runtime_read_writes_nothing_but_the_one_pointer_a_miss_keeps(
        self,
        admin: Api,
        viewer: Api,
        stream: StreamPoller,
        pinned_second: list[float],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # Given a key with its pointer, one whose pointer the consumer has not written, and a budget of 7
        rolling_out(admin, stream)
        cold = admin.create(key="cold", name="Cold", draftConfig=v2_config("c")).body
        assert admin.publish(id=cold["id"]).status == 200
        limits(monkeypatch, per_minute=500, runtime_per_second=7)
        operations: list[str] = []
        dynamodb_client().meta.events.register(  # the handlers' client, made again by the reset above
            "before-call.dynamodb", lambda model, **_: operations.append(model.name)
        )

        # When the missing pointer is read, it is rebuilt and kept: one write, once for the key
        assert live(viewer, "cold").status == 200
        assert WRITES.intersection(operations) == {"TransactWriteItems"}
        operations.clear()

        # And then: hits, a 304, a state, the kept key, an unknown key, and one over the budget
        etag = live(viewer).headers["etag"]
        statuses = [live(viewer, **{"If-None-Match": etag}).status, state(viewer).status]
        statuses += [live(viewer, "cold").status, live(viewer, "x").status, live(viewer).status, live(viewer).status]

        # Then none of them wrote to any table, the rate limit's included
        assert statuses == [304, 200, 200, 404, 200, 429]
        assert "GetItem" in operations
        assert not WRITES.intersection(operations), operations
