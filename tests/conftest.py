"""Fixtures shared by every kind of test: an in-process moto DynamoDB built from template.yaml,
the handlers wired to it, and a counter of DynamoDB round trips and bytes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from decision_flows.settings import settings
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, Caller
from decision_flows_local.dynamodb.embedded import embedded_tables
from decision_flows_local.dynamodb.streams import StreamPoller
from tests.support import least_privilege
from tests.support.dynamodb_calls import Access, CallRecorder, DynamoCalls, from_subprocesses
from tests.support.schedulers import InMemoryScheduler
from tests.support.tenants import TENANT_A, TENANT_B

TESTS = Path(__file__).parent
# The folders whose whole run makes every grant of template.yaml (the functions' and the servers' calls).
SUITES_THAT_USE_EVERY_GRANT = ("integration", "local", "reliability")
# Held against the functions' IAM policies when the session ends (tests/support/least_privilege.py).
FUNCTION_CALLS = CallRecorder()
FUNCTION_CALLS.install()  # before any botocore session exists

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **template.function_environment(),
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("DYNAMODB_ENDPOINT_URL", None)


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> InMemoryScheduler:
    """The schedules the handlers make (moto never fires EventBridge Scheduler's): a test fires them."""
    from decision_flows import wiring

    scheduler = InMemoryScheduler()
    monkeypatch.setattr(wiring, "scheduler", lambda: scheduler)
    return scheduler


@pytest.fixture
def dynamodb(scheduler: InMemoryScheduler) -> Iterator[Any]:
    """A fresh moto DynamoDB with the template's tables; handlers build their clients against it."""
    with embedded_tables() as client:
        yield client


@pytest.fixture
def stream(dynamodb: Any) -> StreamPoller:
    """The flows table's stream, read from moto and handed to the consumer as Lambda would."""
    return StreamPoller.for_template(dynamodb)


@pytest.fixture
def editor(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_A, "editor", "editor@a.example"))


@pytest.fixture
def admin(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_A, "admin", "admin@a.example"))


@pytest.fixture
def viewer(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_A, "viewer", "viewer@a.example"))


@pytest.fixture
def other_tenant(dynamodb: Any) -> Api:
    return Api(Caller(TENANT_B, "admin", "admin@b.example"))


# Budgets exclude the idempotency and rate-limit records (their cost is per request, not per route).
NOT_COUNTED_TABLES = {settings().idempotency_table, settings().rate_limit_table}


@pytest.fixture
def dynamo_calls(dynamodb: Any) -> DynamoCalls:
    calls = DynamoCalls()
    counting: list[bool] = []

    def on_request(request: Any, operation_name: str, **_: Any) -> None:
        table = json.loads(request.body or b"{}").get("TableName")
        counting.append(table not in NOT_COUNTED_TABLES)
        if counting[-1]:
            calls.operations.append(operation_name)
            calls.request_bytes += len(request.body or b"")

    def on_response(http_response: Any, **_: Any) -> None:
        if counting.pop(0):
            calls.response_bytes += len(http_response.content or b"")

    dynamodb.meta.events.register("request-created.dynamodb", on_request)
    dynamodb.meta.events.register("after-call.dynamodb", on_response)
    return calls


# Least privilege: every DynamoDB call a function made in this session must be allowed by its role
# in template.yaml; after a whole run of the integration, local and reliability suites (`make serve`'s
# servers run the functions' handlers, so their calls are the functions' calls too), every DynamoDB
# grant must have been used. Either failure fails the run. Under pytest-xdist (`make test` runs on
# every core) each worker sends what it collected and saw to the controller, which judges the whole run.


@dataclass
class _Session:
    collected: set[str] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)
    accesses: set[Access] = field(default_factory=set)
    deselected: bool = False
    failed: bool = False
    findings: list[str] = field(default_factory=list)


_session = _Session()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_deselected(items: list[pytest.Item]) -> None:
    _session.deselected = True


def pytest_collection_finish(session: pytest.Session) -> None:
    _session.collected = {item.nodeid for item in session.items}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.skipped):
        _session.ran.add(report.nodeid)
    _session.failed |= report.failed


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller: what one worker collected and which DynamoDB calls it saw."""
    output = getattr(node, "workeroutput", {})
    _session.collected |= set(output.get("collected", []))
    _session.deselected |= bool(output.get("deselected"))
    _session.accesses |= {Access(**access) for access in output.get("dynamodb_accesses", [])}


def _whole_suites_ran() -> bool:
    wanted = {
        path.relative_to(TESTS.parent).as_posix()
        for suite in SUITES_THAT_USE_EVERY_GRANT
        for path in (TESTS / suite).glob("test_*.py")
    }
    modules = {nodeid.split("::", 1)[0] for nodeid in _session.collected}
    return wanted <= modules and not _session.deselected and _session.ran == _session.collected and not _session.failed


def pytest_sessionfinish(session: pytest.Session) -> None:
    accesses = FUNCTION_CALLS.seen | from_subprocesses()
    if _is_worker(session.config):
        session.config.workeroutput.update(  # type: ignore[attr-defined]
            collected=sorted(_session.collected),
            deselected=_session.deselected,
            dynamodb_accesses=[access.__dict__ for access in accesses],
        )
        return
    accesses |= _session.accesses
    denied = least_privilege.denied(accesses)
    unused = least_privilege.unused(accesses) if _whole_suites_ran() else None
    _session.findings = least_privilege.report(accesses, denied, unused)
    if denied or unused:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _session.findings:
        terminalreporter.section("least privilege (template.yaml policies against the calls made)")
        for line in _session.findings:
            terminalreporter.line(line)
