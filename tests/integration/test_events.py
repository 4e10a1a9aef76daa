"""Every sample event in events/ runs through the handler template.yaml routes it to, so they cannot rot.

Each event gets a fresh moto store seeded into the state it needs (the flow the events name, with
the versions and rowVersion they expect), then must come back 2xx with the body its route promises
(the $default route's event: the refusal it exists for).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonpatch
import pytest

from decision_flows import wiring
from decision_flows.dal.changes import ChangeRepository
from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.flows import FlowRepository
from decision_flows.dal.policies import PolicyRepository
from decision_flows.domain.changes import ChangeService
from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
from decision_flows.models.identity import Identity, Role
from decision_flows.models.policy import Policy
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.review_commands import NewChangeRequest, ScheduleRequest
from decision_flows.settings import settings
from decision_flows_local import template
from decision_flows_local.api.gateway import LambdaContext, route_for
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config

EVENTS_DIR = template.ROOT / "events"
EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
FLOW_ID = "df_example0000000000000001"
TENANT = "tenant-a"
PRINCIPAL = "alice@tenant-a.example"
SEED_KEY = "example-flow"
V1_CONFIG = v2_config("v1")
V2_CONFIG = v2_config("v2", method="scorecard")


@dataclass(frozen=True)
class Result:
    status: int
    headers: dict[str, str]
    body: Any


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def function_for(event: dict[str, Any]) -> str:
    """The function template.yaml routes this event's method and path to."""
    return route_of(event).function


def route_of(event: dict[str, Any]) -> template.TemplateRoute:
    """The route API Gateway picks for this event's method and path ($default for what no route takes)."""
    return route_for(event["requestContext"]["http"]["method"], event["rawPath"])


def request_body(event: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event["body"])
    return body


# Seeds: the store each event needs, built through the domain service with the events' fixed id.


def repository() -> FlowRepository:
    return FlowRepository(dynamodb_client(), settings().flows_table)


def service() -> FlowService:
    return FlowService(repository(), new_id=lambda: FLOW_ID)


SEEDER = Identity(tenant_id=TENANT, role=Role.ADMIN, principal="seed@tenant-a.example")


def seed_draft(flows: FlowService) -> None:
    """The flow exists, never published: rowVersion 1."""
    request = CreateFlowRequest.model_validate({"key": SEED_KEY, "name": "Example flow", "draftConfig": V1_CONFIG})
    flows.create(SEEDER, request)


def seed_published(flows: FlowService) -> None:
    """The flow with version 1 live: rowVersion 2."""
    seed_draft(flows)
    flows.publish(SEEDER, PublishRequest(id=FLOW_ID, notes="seed v1"), None)


def seed_two_versions(flows: FlowService) -> None:
    """Version 2 (another config) live, so rolling back to version 1 changes something."""
    seed_published(flows)
    flows.update(SEEDER, UpdateFlowRequest.model_validate({"id": FLOW_ID, "draftConfig": V2_CONFIG}), None)
    flows.publish(SEEDER, PublishRequest(id=FLOW_ID, notes="seed v2"), None)


def seed_rollout(flows: FlowService) -> None:
    """v1 live for most, v2 published as the challenger of a rollout at 10 %."""
    seed_published(flows)
    flows.update(SEEDER, UpdateFlowRequest.model_validate({"id": FLOW_ID, "draftConfig": V2_CONFIG}), None)
    flows.publish(SEEDER, PublishRequest.model_validate({"id": FLOW_ID, "rollout": {"percent": 10}}), None)


def seed_history(flows: FlowService) -> None:
    """Two versions, and the stream consumer has written their change history."""
    seed_two_versions(flows)
    StreamPoller.for_template(dynamodb_client()).deliver()


CHANGE_ID = "cr_019a0000000000000001_df_example0000000000000001"
REQUESTER = Identity(tenant_id=TENANT, role=Role.EDITOR, principal=PRINCIPAL)


def seed_publishable(flows: FlowService) -> None:
    """Version 1 live, and the draft edited since (publishable as version 2)."""
    seed_published(flows)
    flows.update(SEEDER, UpdateFlowRequest.model_validate({"id": FLOW_ID, "draftConfig": V2_CONFIG}), None)


def seed_change(flows: FlowService, author: Identity, required: int) -> None:
    """A request to publish the edited draft, with the events' fixed id, under a policy of ``required``."""
    seed_publishable(flows)
    policies = PolicyRepository(dynamodb_client(), settings().flows_table)
    if required:
        policies.save_policy(Policy(tenant_id=TENANT), Policy(tenant_id=TENANT, required=required, row_version=1))
    changes = ChangeService(
        flows,
        repository(),
        ChangeRepository(dynamodb_client(), settings().flows_table),
        policies,
        new_id=lambda *_: CHANGE_ID,
    )
    body = {"flowId": FLOW_ID, "action": "publish", "params": {"notes": "Q3 scoring"}}
    changes.create(author, NewChangeRequest.model_validate(body))


def seed_scheduled_change(flows: FlowService) -> None:
    """An approved request (no review required) scheduled an hour ahead of the real clock."""
    seed_change(flows, SEEDER, required=0)
    run_at = timestamp(utc_now() + timedelta(hours=1))
    wiring.schedule_service().schedule(SEEDER, ScheduleRequest.model_validate({"changeId": CHANGE_ID, "runAt": run_at}))


SEEDS: dict[str, Callable[[FlowService], None]] = {
    "request-change": seed_publishable,
    "get-change": lambda flows: seed_change(flows, SEEDER, required=1),
    "approve-change": lambda flows: seed_change(flows, SEEDER, required=1),
    "reject-change": lambda flows: seed_change(flows, SEEDER, required=1),
    "cancel-change": lambda flows: seed_change(flows, REQUESTER, required=1),
    "apply-change": lambda flows: seed_change(flows, SEEDER, required=0),
    "schedule-change": lambda flows: seed_change(flows, SEEDER, required=0),
    "unschedule-change": seed_scheduled_change,
    "publish": seed_draft,
    "rollback": seed_two_versions,
    "diff": seed_two_versions,
    "rollout": seed_rollout,
    "rollout-promote": seed_rollout,
    "rollout-abort": seed_rollout,
    "history": seed_history,
    "history-feed": seed_history,
    "live-state": seed_rollout,
}


# Checks: what each event's response must say, beyond a 2xx status.


def check_list_flows(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert FLOW_ID in [flow["id"] for flow in result.body["data"]]
    assert result.body["pagination"]["limit"] == int(event["queryStringParameters"]["limit"])


def check_get_flow(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["id"] == event["queryStringParameters"]["id"]
    assert result.body["tenantId"] == TENANT
    assert result.body["draftConfig"] == V1_CONFIG
    assert result.headers["etag"] == f'"{result.body["rowVersion"]}"'


def check_health(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body == {"status": "ok"}


def check_create_flow(event: dict[str, Any], result: Result) -> None:
    sent = request_body(event)
    assert result.status == 201
    assert {name: result.body[name] for name in sent} == sent
    assert result.body["publishedVersions"] == []
    assert result.body["liveVersion"] is None
    assert result.body["createdBy"] == PRINCIPAL
    assert result.headers["location"].endswith(f"?id={result.body['id']}")


def check_update_flow(event: dict[str, Any], result: Result) -> None:
    sent = request_body(event)
    assert result.status == 200
    assert result.body["name"] == sent["name"]
    assert result.body["rowVersion"] == sent["rowVersion"] + 1
    assert result.body["updatedBy"] == PRINCIPAL


def check_delete_flow(event: dict[str, Any], result: Result) -> None:
    assert result.status == 204
    assert result.body is None
    assert repository().get_flow(TENANT, event["queryStringParameters"]["id"]) is None


def check_publish(event: dict[str, Any], result: Result) -> None:
    sent = request_body(event)
    assert result.status == 200
    assert result.body["id"] == sent["id"]
    assert (result.body["status"], result.body["liveVersion"], result.body["latestVersion"]) == ("active", 1, 1)
    assert result.body["publishedVersions"][-1]["notes"] == sent["notes"]
    assert result.body["publishedVersions"][-1]["publishedBy"] == PRINCIPAL


def check_list_versions(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["flowId"] == event["queryStringParameters"]["id"]
    assert [version["version"] for version in result.body["versions"]] == [1]
    assert result.body["versions"][0]["summary"] == {"nodeCount": 3, "scoringMethod": "propensity"}
    assert "configSnapshot" not in result.body["versions"][0]


def check_get_version(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["flowId"] == event["queryStringParameters"]["id"]
    assert result.body["version"] == int(event["queryStringParameters"]["version"])
    assert result.body["configSnapshot"] == V1_CONFIG


def check_rollback(event: dict[str, Any], result: Result) -> None:
    sent = request_body(event)
    assert result.status == 200
    assert (result.body["status"], result.body["liveVersion"], result.body["latestVersion"]) == ("active", 3, 3)
    assert result.body["draftConfig"] == V1_CONFIG
    newest = result.body["publishedVersions"][-1]
    assert newest["restoredFrom"] == sent["version"]
    assert newest["notes"] == f"Rollback to v{sent['version']}: {sent['notes']}"


def check_history(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["flowId"] == event["queryStringParameters"]["id"]
    actions = [entry["action"] for entry in result.body["data"]]
    assert actions == ["published", "updated", "published", "created"]
    assert {entry["actor"] for entry in result.body["data"]} == {SEEDER.principal}


def check_history_feed(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert {entry["flowId"] for entry in result.body["data"]} == {FLOW_ID}
    assert [entry["action"] for entry in result.body["data"]] == ["published", "updated", "published", "created"]
    assert result.body["pagination"]["limit"] == int(event["queryStringParameters"]["limit"])


def check_live(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["key"], result.body["flowId"]) == (event["queryStringParameters"]["key"], FLOW_ID)
    assert (result.body["version"], result.body["config"]) == (1, V1_CONFIG)


def check_live_state(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["key"], result.body["flowId"]) == (event["queryStringParameters"]["key"], FLOW_ID)
    assert (result.body["champion"]["version"], result.body["champion"]["config"]) == (1, V1_CONFIG)
    challenger = result.body["challenger"]
    assert (challenger["version"], challenger["config"], challenger["percent"]) == (2, V2_CONFIG, 10)


def check_diff(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["from"], result.body["to"]) == ({"ref": "1", "version": 1}, {"ref": "2", "version": 2})
    assert result.body["identical"] is False
    assert jsonpatch.apply_patch(V1_CONFIG, result.body["patch"]) == V2_CONFIG
    assert result.body["summary"]["scoringMethod"] == {"from": "propensity", "to": "scorecard"}


def check_validate(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["valid"], result.body["publishable"], result.body["errors"]) == (True, True, [])
    warnings = [(warning["code"], warning["path"]) for warning in result.body["warnings"]]
    assert warnings == [("NO_OUTPUT_NODE", "/nodes"), ("DEAD_END_NODE", "/nodes/2")]


def check_rollout(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["rollout"]["percent"] == request_body(event)["percent"]
    assert (result.body["liveVersion"], result.body["rollout"]["challengerVersion"]) == (1, 2)
    assert "draftConfig" not in result.body  # a rollout step never changes the draft


def check_rollout_promote(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["liveVersion"], result.body["latestVersion"], result.body["rollout"]) == (2, 2, None)


def check_rollout_abort(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["liveVersion"], result.body["latestVersion"], result.body["rollout"]) == (1, 2, None)


def check_not_found(event: dict[str, Any], result: Result) -> None:
    assert (result.status, result.body["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert result.headers["allow"] == "GET, POST, PUT, DELETE"


def check_get_policy(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["approvals"] == {"required": 0, "allowSelfApproval": False}
    assert (result.body["emergency"], result.body["rowVersion"]) == ({"enabled": True}, 0)


def check_put_policy(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["approvals"] == request_body(event)["approvals"]
    assert (result.body["rowVersion"], result.body["updatedBy"]) == (1, PRINCIPAL)


def check_request_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 201
    assert (result.body["flowId"], result.body["action"], result.body["author"]) == (FLOW_ID, "publish", PRINCIPAL)
    assert result.body["state"] == "approved"  # the tenant requires no review
    assert result.body["base"] == {"liveVersion": 1, "challengerVersion": None, "percent": None}


def check_get_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["changeId"], result.body["state"]) == (CHANGE_ID, "pending")


def check_approve_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["state"] == "approved"
    assert [review["by"] for review in result.body["approvals"]] == [PRINCIPAL]


def check_reject_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["state"], result.body["rejections"][0]["by"]) == ("rejected", PRINCIPAL)


def check_cancel_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert result.body["state"] == "cancelled"


def check_apply_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["change"]["state"], result.body["change"]["result"]) == ("applied", {"version": 2})
    assert result.body["flow"]["liveVersion"] == 2


def check_schedule_change(event: dict[str, Any], result: Result) -> None:
    # A sample's fixed runAt cannot stay within 90 days of the real clock: it shows the refusal.
    assert (result.status, result.body["code"]) == (422, "SCHEDULE_OUT_OF_RANGE")


def check_unschedule_change(event: dict[str, Any], result: Result) -> None:
    assert result.status == 200
    assert (result.body["state"], result.body["schedule"]) == ("approved", None)


# Events whose point is a refusal: what no route takes, and a runAt no fixed sample keeps in range.
REFUSALS = frozenset({"not-found", "schedule-change"})
CHECKS: dict[str, Callable[[dict[str, Any], Result], None]] = {
    "list-flows": check_list_flows,
    "get-flow": check_get_flow,
    "health": check_health,
    "create-flow": check_create_flow,
    "update-flow": check_update_flow,
    "delete-flow": check_delete_flow,
    "publish": check_publish,
    "list-versions": check_list_versions,
    "get-version": check_get_version,
    "rollback": check_rollback,
    "history": check_history,
    "history-feed": check_history_feed,
    "live": check_live,
    "live-state": check_live_state,
    "diff": check_diff,
    "validate": check_validate,
    "rollout": check_rollout,
    "rollout-promote": check_rollout_promote,
    "rollout-abort": check_rollout_abort,
    "not-found": check_not_found,
    "get-policy": check_get_policy,
    "put-policy": check_put_policy,
    "request-change": check_request_change,
    "get-change": check_get_change,
    "approve-change": check_approve_change,
    "reject-change": check_reject_change,
    "cancel-change": check_cancel_change,
    "apply-change": check_apply_change,
    "schedule-change": check_schedule_change,
    "unschedule-change": check_unschedule_change,
}


# Tests


def test_there_are_event_files() -> None:
    assert EVENT_FILES, f"no *.json events in {EVENTS_DIR}"


def test_events_cover_every_route() -> None:
    covered = {(route_of(event).method, route_of(event).path) for event in map(load, EVENT_FILES)}
    missing = {(route.method, route.path) for route in template.routes()} - covered
    assert not missing, f"template.yaml routes with no sample event: {sorted(missing)}"


def test_every_event_has_a_check() -> None:
    assert sorted(path.stem for path in EVENT_FILES) == sorted(CHECKS)


@pytest.mark.parametrize("path", EVENT_FILES, ids=[path.stem for path in EVENT_FILES])
def test_event_is_an_http_api_v2_event(path: Path) -> None:
    event = load(path)
    context = event["requestContext"]
    raw_path = event["rawPath"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == context["routeKey"] == route_of(event).route_key
    assert context["http"]["path"] == raw_path
    assert event["rawQueryString"] == urlencode(event.get("queryStringParameters", {}))
    assert event["isBase64Encoded"] is False
    assert all(name == name.lower() for name in event["headers"])
    if "body" in event:
        assert isinstance(event["body"], str)
        assert isinstance(json.loads(event["body"]), dict)
        assert event["headers"]["content-type"] == "application/json"
    if "authorizer" in context:
        identity = context["authorizer"]["lambda"]
        assert (identity["tenantId"], identity["principal"]) == (TENANT, PRINCIPAL)
        assert event["headers"]["x-tenant-id"] == TENANT
        Role.parse(identity["role"])


@pytest.mark.parametrize("path", EVENT_FILES, ids=[path.stem for path in EVENT_FILES])
def test_event_runs_through_its_handler(path: Path, dynamodb: Any) -> None:
    event = load(path)
    SEEDS.get(path.stem, seed_published)(service())

    function = function_for(event)
    raw: dict[str, Any] = template.handler(function)(copy.deepcopy(event), LambdaContext())
    body_text = raw.get("body") or ""
    result = Result(
        status=raw["statusCode"],
        headers={name.lower(): value for name, value in (raw.get("headers") or {}).items()},
        body=json.loads(body_text) if body_text else None,
    )

    refusal_expected = path.stem in REFUSALS
    assert (200 <= result.status < 300) != refusal_expected, (
        f"{path.name} via {function}: {result.status} {result.body}"
    )
    CHECKS[path.stem](event, result)
