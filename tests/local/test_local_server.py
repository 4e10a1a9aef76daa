"""`make serve`'s server, started as a newcomer would start it and driven over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from decision_flows_local.fixtures.samples import v2_config
from tests.support import moto_server
from tests.support.local_server import ADMIN_KEY, VIEWER_KEY, Server, running_server, start
from tests.support.waiting import eventually


def test_create_publish_rollback_versions_over_http(server: Server) -> None:
    # Given the seeded keys and a new flow
    assert any("tenant-a:admin" in line for line in server.banner)
    status, flow = server.call(
        "POST", "/api/v1/decision-flows", body={"key": "w", "name": "W", "draftConfig": v2_config("a")}
    )
    assert status == 201
    # When it is published twice and rolled back to v1
    assert server.call("POST", "/api/v1/decision-flows/publish", body={"id": flow["id"]})[0] == 200
    server.call("PUT", "/api/v1/decision-flows", body={"id": flow["id"], "draftConfig": v2_config("b")})
    assert server.call("POST", "/api/v1/decision-flows/publish", body={"id": flow["id"]})[0] == 200
    status, restored = server.call("POST", "/api/v1/decision-flows/rollback", body={"id": flow["id"], "version": 1})
    # Then v3 restores v1, and the versions route lists all three
    assert status == 200
    assert (restored["liveVersion"], restored["draftConfig"]) == (3, v2_config("a"))
    status, versions = server.call("GET", f"/api/v1/decision-flows/versions?id={flow['id']}")
    assert status == 200
    assert [(v["version"], v.get("restoredFrom")) for v in versions["versions"]] == [(1, None), (2, None), (3, 1)]


def test_the_stream_consumer_runs_in_process_so_live_and_history_follow_writes(server: Server) -> None:
    # Given a flow published twice
    _, flow = server.call(
        "POST", "/api/v1/decision-flows", body={"key": "s", "name": "S", "draftConfig": v2_config("a")}
    )
    server.call("POST", "/api/v1/decision-flows/publish", body={"id": flow["id"]})
    server.call("PUT", "/api/v1/decision-flows", body={"id": flow["id"], "draftConfig": v2_config("b")})
    server.call("POST", "/api/v1/decision-flows/publish", body={"id": flow["id"]})
    assert eventually(lambda: server.call("GET", "/api/v1/decision-flows/live?key=s")[1].get("version") == 2)

    # When it is rolled back to v1
    server.call("POST", "/api/v1/decision-flows/rollback", body={"id": flow["id"], "version": 1})

    # Then runtime reads get v1's config as v3, and history records the rollback, with nobody polling by hand
    assert eventually(lambda: server.call("GET", "/api/v1/decision-flows/live?key=s")[1].get("version") == 3)
    assert server.call("GET", "/api/v1/decision-flows/live?key=s")[1]["config"] == v2_config("a")
    status, history = server.call("GET", f"/api/v1/decision-flows/history?id={flow['id']}")
    assert status == 200
    assert [entry["action"] for entry in history["data"]] == [
        "rolled_back",
        "published",
        "updated",
        "published",
        "created",
    ]
    assert any("StreamFunction" in line for line in server.banner)


def test_the_authorizer_and_roles_apply(module_server: Server) -> None:
    server = module_server
    assert server.call("GET", "/api/v1/decision-flows", key=VIEWER_KEY)[0] == 200
    status, problem = server.call("POST", "/api/v1/decision-flows", key=VIEWER_KEY, body={"key": "k", "name": "n"})
    assert (status, problem["code"]) == (403, "INSUFFICIENT_ROLE")
    status, problem = server.call("GET", "/api/v1/decision-flows", key="sk_test_nobody")
    assert (status, problem["code"]) == (401, "UNAUTHENTICATED")
    health = server.send("GET", "/api/v1/health", key=None)
    assert (health.status, health.json()["status"]) == (200, "ok")
    assert health.json()["streamConsumer"]["keepingUp"] is True


def test_a_chunked_body_is_read_as_api_gateway_reads_it(module_server: Server) -> None:
    # Given a create whose body comes in chunks, with no Content-Length (security review L11)
    body = json.dumps({"key": "chunked", "name": "Chunked"}).encode()
    connection = http.client.HTTPConnection(urlsplit(module_server.base).netloc, timeout=10)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "X-Tenant-Id": "tenant-a", "Content-Type": "application/json"}
    # When it is sent with Transfer-Encoding: chunked
    connection.request("POST", "/api/v1/decision-flows", body=iter([body[:10], body[10:]]), headers=headers)
    response = connection.getresponse()
    # Then the handler gets the whole body, as behind API Gateway
    assert (response.status, json.loads(response.read())["key"]) == (201, "chunked")
    connection.close()


def test_what_no_route_takes_gets_problem_details_as_on_api_gateway(module_server: Server) -> None:
    # A path that is no route, and a route's path with a method it does not take, through the $default route
    missing = module_server.send("GET", "/api/v1/decision-flow")
    assert (missing.status, missing.content_type, missing.json()["code"]) == (
        404,
        "application/problem+json",
        "ROUTE_NOT_FOUND",
    )
    wrong_method = module_server.send("PATCH", "/api/v1/decision-flows/publish")
    assert (wrong_method.status, wrong_method.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert wrong_method.headers["Allow"] == "POST"
    # Behind the authorizer: no credentials is API Gateway's own 401, a refused one the 401 problem
    assert module_server.send("GET", "/nowhere", key=None).status == 401
    refused = module_server.send("GET", "/nowhere", key="sk_test_nobody")
    assert (refused.status, refused.json()["code"]) == (401, "UNAUTHENTICATED")
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_ctrl_c_stops_it_cleanly_and_requests_were_logged(server: Server) -> None:
    server.call("GET", "/api/v1/decision-flows")
    server.send("GET", "/openapi.json", key=None)
    output = server.stop()
    assert server.process.returncode == 0
    assert "GET /api/v1/decision-flows 200" in output
    assert "GET /openapi.json 200" in output
    assert output.rstrip().endswith("stopped")


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = start(taken.getsockname()[1])
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "is taken" in output


def test_a_plain_make_serve_takes_the_contracts_example_admin_key() -> None:
    # Given make serve started with no LOCAL_API_KEYS, on its embedded store
    with running_server(LOCAL_API_KEYS="") as server:
        # Then it says which key it made, and that key is tenant-a's admin, as the README's examples use it
        assert "API key sk_test_admin_a → tenant-a:admin" in server.banner
        assert server.call("POST", "/api/v1/decision-flows", body={"key": "k", "name": "K"})[0] == 201


def test_against_another_store_without_local_api_keys_a_new_admin_key_is_printed_with_a_working_hint(
    endpoint: str,
) -> None:
    # Given make serve against a DynamoDB endpoint, with no LOCAL_API_KEYS
    moto_server.reset(endpoint)
    with running_server(LOCAL_API_KEYS="", DYNAMODB_ENDPOINT_URL=endpoint) as server:
        # Then it made a random admin key, and the curl it prints works as printed
        (hint,) = [line.strip() for line in server.banner if line.strip().startswith("curl ")]
        assert server.base in hint
        answer = subprocess.run(  # noqa: S603 (the server's own printed curl, against loopback)
            [*shlex.split(hint), "-s", "-o", "/dev/null", "-w", "%{http_code}"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert answer.stdout == "200"


def test_make_invoke_runs_one_function_with_one_event() -> None:
    from decision_flows_local.api.invoke import main

    environment = dict(os.environ)
    try:
        assert main(["ListFlowsFunction", "events/list-flows.json"]) == 0
        assert main(["RollbackFunction", "events/rollback.json"]) == 0
        assert main(["NoSuchFunction", "events/list-flows.json"]) == 2
        assert main(["ListFlowsFunction", "events/none.json"]) == 2
    finally:
        os.environ.clear()
        os.environ.update(environment)


def test_make_invoke_prints_the_handlers_result(capsys: pytest.CaptureFixture[str]) -> None:
    from decision_flows_local.api.invoke import main

    environment = dict(os.environ)
    try:
        main(["ListFlowsFunction", "events/list-flows.json"])
    finally:
        os.environ.clear()
        os.environ.update(environment)
    result = json.loads(capsys.readouterr().out)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["data"] == []


def test_the_moto_server_the_tests_start_refuses_what_dynamodb_refuses(endpoint: str) -> None:
    # Given the stand-alone moto server (DYNAMODB_ENDPOINT_URL) with a table
    import boto3
    from botocore.exceptions import ClientError

    moto_server.reset(endpoint)
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    # When a read names a partition key over 2048 bytes, and a token comes back with other items
    with pytest.raises(ClientError) as long_key:
        client.get_item(TableName="t", Key={"PK": {"S": "k" * 2049}})
    put: list[Any] = [{"Put": {"TableName": "t", "Item": {"PK": {"S": name}}}} for name in ("a", "b", "c")]
    client.transact_write_items(TransactItems=put[:2], ClientRequestToken="one-request")
    with pytest.raises(ClientError) as reused:
        client.transact_write_items(TransactItems=put[1:], ClientRequestToken="one-request")

    # Then it refuses both as DynamoDB does (strict_moto_server), not as plain moto would
    assert long_key.value.response["Error"]["Code"] == "ValidationException"
    assert reused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_the_local_scheduler_fires_a_due_schedule_it_finds_in_the_store(endpoint: str) -> None:
    # Given make serve against a DynamoDB endpoint, and an approved publish scheduled a minute ahead
    import boto3

    from decision_flows.dal.changes import ChangeRepository
    from decision_flows.domain.clock import timestamp
    from decision_flows.settings import settings

    moto_server.reset(endpoint)
    with running_server(DYNAMODB_ENDPOINT_URL=endpoint) as server:
        assert any(line.startswith("scheduler: ") for line in server.banner)
        created = {"key": "t", "name": "T", "draftConfig": v2_config("a")}
        _, flow = server.call("POST", "/api/v1/decision-flows", body=created)
        request = {"flowId": flow["id"], "action": "publish", "params": {"notes": "at nine"}}
        status, change = server.call("POST", "/api/v1/decision-flows/changes", body=request)
        assert (status, change["state"]) == (201, "approved"), change
        run_at = datetime.now(UTC) + timedelta(minutes=1, seconds=5)
        schedule = {"changeId": change["changeId"], "runAt": timestamp(run_at)}
        assert server.call("POST", "/api/v1/decision-flows/changes/schedule", body=schedule)[0] == 200

        # When its time comes: the store's copy is moved to now, as a minute passing would (no waiting)
        changes = ChangeRepository(boto3.client("dynamodb", endpoint_url=endpoint), settings().flows_table)
        stored = changes.get_change("tenant-a", change["changeId"])
        assert stored is not None
        assert stored.schedule is not None
        now = stored.schedule.model_copy(update={"run_at": timestamp(datetime.now(UTC))})
        changes.save_change(stored, stored.model_copy(update={"schedule": now, "row_version": stored.row_version + 1}))

        # Then the server's scheduler applies it within a second or so, and says so
        def applied() -> bool:
            status, read = server.call("GET", f"/api/v1/decision-flows/changes?id={change['changeId']}")
            return status == 200 and read["state"] == "applied"

        assert eventually(applied, seconds=10)  # a sweep every 0.25 s: at once, unless the machine is busy
    assert f"scheduler: {{'tenantId': 'tenant-a', 'changeId': '{change['changeId']}'}} done" in server.stop()
