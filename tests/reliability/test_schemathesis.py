"""Fuzzing the API through its own OpenAPI document: schemathesis against `make serve`'s server.

Every operation of /openapi.json, with valid credentials (an admin of tenant-a), in schemathesis's
coverage phase (boundary and invalid values, missing parameters) and fuzzing phase (schema-valid and
schema-invalid data). Checks: no 5xx; every status, content type, header and body the document
declares; invalid data rejected; a required header's absence rejected; no credentials, no access; a
deleted flow gone. The
store is seeded first, and schemathesis dictionaries put the seeded ids, keys, versions and ETags
into half of the generated requests, so fuzzing reaches publish, rollback, versions and live
with flows that exist rather than stopping at 404.

Two checks are left out on purpose (see CHECKS): ``positive_data_acceptance`` wants every schema-valid request to
succeed, but schema-valid is not state-valid (a cursor this API never handed out, a draft without a
scoring method are refused by the contract); ``unsupported_method`` wants 405 for an undeclared
method, where API Gateway HTTP APIs (and the local server after them) answer 404.

The CLI (`st run`) rather than the pytest plugin: it runs both phases, deduplicates failures and
prints a curl line to reproduce each; its JSON report gives the figures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from decision_flows_local.api import openapi
from decision_flows_local.fixtures.samples import v1_config, v2_config
from tests.support.figures import Figures
from tests.support.local_server import Server, running_server
from tests.support.scale import FULL, scaled

pytestmark = pytest.mark.long

FLOWS = "/api/v1/decision-flows"
CREDENTIALS = {"Authorization": "Bearer sk_test_admin_a", "X-Tenant-Id": "tenant-a"}
# Every check of schemathesis 4.32 but positive_data_acceptance and unsupported_method (see above) and
# object_level_authorization (it needs a second identity's resources).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)
# Half of the generated ids, keys, versions and ETags are seeded ones (the rest stay random).
HIT_PROBABILITY = 0.5
# The request log line of the server: "<METHOD> <path> <status>".
LOGGED_STATUS = re.compile(r"^([A-Z]+ [^?\s]+)\S* (\d{3})$")


@dataclass(frozen=True)
class Seeded:
    """What the store holds before fuzzing starts."""

    flow_ids: list[str]
    keys: list[str]
    doomed_ids: list[str]  # flows only DELETE is pointed at, so the others survive it


def seed(server: Server) -> Seeded:
    """Given flows in every state: live with an edited draft (v1, v2), paused (v1), never published;
    and three flows for DELETE to remove."""

    def created(key: str, config: dict[str, Any]) -> str:
        status, flow = server.call("POST", FLOWS, body={"key": key, "name": key, "draftConfig": config})
        assert status == 201, flow
        return str(flow["id"])

    def ok(method: str, path: str, body: dict[str, Any]) -> None:
        status, answer = server.call(method, path, body=body)
        assert status == 200, answer

    live = created("fuzz-live", v2_config("one"))
    ok("POST", f"{FLOWS}/publish", {"id": live})
    ok("PUT", FLOWS, {"id": live, "draftConfig": v1_config()})
    ok("POST", f"{FLOWS}/publish", {"id": live, "notes": "v2"})
    ok("PUT", FLOWS, {"id": live, "draftConfig": v2_config("edited")})
    paused = created("fuzz-paused", v1_config("priority"))
    ok("POST", f"{FLOWS}/publish", {"id": paused})
    ok("PUT", FLOWS, {"id": paused, "status": "paused"})
    never_published = created("fuzz-draft", v2_config("draft"))
    doomed = [created(f"fuzz-doomed-{n}", v2_config(f"doomed-{n}")) for n in range(3)]
    return Seeded([live, paused, never_published], ["fuzz-live", "fuzz-paused", "fuzz-draft"], doomed)


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[tuple[Server, Seeded]]:
    # The fuzzer sends thousands of requests a minute; the default limit (500) would answer 429.
    with running_server(RATE_LIMIT_PER_MINUTE="0") as server:
        yield server, seed(server)


def settled(output: list[str]) -> list[str]:
    """The server's output once its reader thread has caught up (nothing new for 0.3 s)."""
    seen = -1
    while seen != len(output):
        seen = len(output)
        time.sleep(0.3)
    return output


def toml_value(value: Any) -> str:
    """A TOML value of strings, numbers, lists and inline tables (JSON's string escapes are TOML's)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def config_file(seeded: Seeded) -> str:
    """schemathesis.toml: credentials on every request, and the seeded values as dictionaries."""
    dictionaries = {
        "flow-ids": seeded.flow_ids,
        "doomed-ids": seeded.doomed_ids,
        "keys": seeded.keys,
        "versions": [1, 2, 3],
        "counters": [1, 2, 3, 4, 5, 6],
        "etags": [f'"{n}"' for n in range(1, 7)],
    }

    def hit(dictionary: str) -> dict[str, Any]:
        return {"dictionary": dictionary, "probability": HIT_PROBABILITY}

    parameters = {
        "query.id": hit("flow-ids"),
        "body.id": hit("flow-ids"),
        "query.key": hit("keys"),
        "body.key": hit("keys"),
        "query.version": hit("versions"),
        "body.version": hit("versions"),
        "body.rowVersion": hit("counters"),
        "body.expectedCurrentVersion": hit("versions"),
        "header.If-Match": hit("etags"),
    }
    lines = [f"headers = {toml_value(CREDENTIALS)}", f"parameters = {toml_value(parameters)}"]
    lines += [f"dictionaries.{toml_value(name)}.values = {toml_value(values)}" for name, values in dictionaries.items()]
    lines += [
        "",
        "[[operations]]",
        f'include-name = "DELETE {FLOWS}"',
        f"parameters = {toml_value({**parameters, 'query.id': hit('doomed-ids')})}",
    ]
    return "\n".join(lines) + "\n"


def test_every_operation_answers_as_documented_under_fuzzing(
    fuzzed_server: tuple[Server, Seeded], tmp_path: Path, figures: Figures
) -> None:
    server, seeded = fuzzed_server
    # Given the seeded server and a schemathesis configuration that knows its ids
    (tmp_path / "schemathesis.toml").write_text(config_file(seeded))
    report_path = tmp_path / "report.json"
    max_examples = scaled(25, 400)
    logged_before = len(server.output)
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", "schemathesis.toml", "run"),
        *(f"{server.base}/openapi.json", "--url", server.base),
        *("--max-examples", str(max_examples), "--checks", ",".join(CHECKS)),
        *("--phases", "examples,coverage,fuzzing", "--request-timeout", "10", "--generation-database", "none"),
        *("--report", "json", "--report-json-path", str(report_path)),
    ]

    # When schemathesis fuzzes every operation of the document
    started = time.perf_counter()
    run = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=tmp_path, capture_output=True, text=True, timeout=3600 if FULL else 600, check=False
    )
    seconds = time.perf_counter() - started

    # Then it found nothing: no 5xx, and every response is one the document declares
    output = run.stdout + run.stderr
    report: dict[str, Any] = json.loads(report_path.read_text())
    cases, operations = report["test_cases"], report["operations"]
    documented = {f"{method} {path}" for method, path in openapi.operations()}
    server_log = [line.strip() for line in settled(server.output)[logged_before:]]
    logged = [(m.group(1), int(m.group(2))) for line in server_log if (m := LOGGED_STATUS.match(line))]
    per_operation = Counter(operation for operation, _ in logged)
    statuses = Counter(status for _, status in logged)
    figures(
        operations=operations["tested"],
        max_examples_per_operation=max_examples,
        examples_generated=cases["generated"],
        requests_per_operation={operation: per_operation[operation] for operation in sorted(documented)},
        requests=len(logged),
        statuses=dict(sorted(statuses.items())),
        failures=cases["unique_failures"],
        seconds=round(seconds, 1),
        seed=report["seed"],
    )
    assert cases["unique_failures"] == 0, output[-20_000:]
    assert (run.returncode, cases["errored"], report["errors"]) == (0, 0, []), output[-20_000:]
    assert operations["tested"] == len(documented), operations
    assert documented <= set(per_operation), per_operation
    # and the server agrees: its request log has no 5xx and it printed no traceback
    assert max(statuses) < 500, [
        line for line in server_log if line.endswith(tuple(f" {s}" for s in statuses if s >= 500))
    ]
    assert not any("Traceback" in line for line in server_log), "\n".join(server_log[-200:])
