"""Every DynamoDB call a template function makes, as IAM authorises it: (function, action, resource);
and its EventBridge Scheduler calls, with the iam:PassRole that creating or replacing a schedule needs.

A botocore handler registered for every session (as moto registers its own) sees each operation
once, before it is sent (``before-parameter-build``: once per operation, whatever the retries), and
attributes it to the template function whose handler is running (``template.running_function``).
Calls made by the tests themselves, outside any handler, are not the functions' and are not kept.
IAM has no action for a transaction: each of its items is authorised as the single-item action it
performs, so a transaction is kept as those.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.handlers

from decision_flows_local import template
from tests.support import iam
from tests.support.iam import table_arn

# The variable that tells a server in a subprocess where to write the calls it saw.
LOG_VARIABLE = "DYNAMODB_CALL_LOG"
TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True, order=True)
class Access:
    function: str
    action: str  # as IAM names it, e.g. dynamodb:GetItem
    resource: str  # the table's or index's ARN
    passed_to: str = ""  # iam:PassRole's iam:PassedToService

    @property
    def context(self) -> dict[str, str]:
        """The request's condition keys, as IAM sees them."""
        return {"iam:PassedToService": self.passed_to} if self.passed_to else {}


SCHEDULE_WRITES = ("CreateSchedule", "UpdateSchedule")


def scheduler_access(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """A Scheduler call as IAM authorises it, on the deployed stack: the local runs name the group and
    the execution role by their logical ids, as they name tables."""
    group = iam.resolve({"Ref": params["GroupName"]})
    yield (
        f"scheduler:{operation}",
        f"arn:{iam.PARTITION}:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule/{group}/{params['Name']}",
        "",
    )
    if operation in SCHEDULE_WRITES:
        role = params["Target"]["RoleArn"].rsplit("/", 1)[1]
        yield "iam:PassRole", iam.resolve({"Fn::GetAtt": [role, "Arn"]}), "scheduler.amazonaws.com"


def tables_named(params: dict[str, Any]) -> set[str]:
    """The tables one operation's ``params`` name: its own, a batch's, or a transaction's items'."""
    if "TableName" in params:
        return {params["TableName"]}
    if "RequestItems" in params:
        return set(params["RequestItems"])
    return {
        body["TableName"] for item in params.get("TransactItems", []) for body in item.values() if "TableName" in body
    }


def authorised_as(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(IAM action, resource ARN) pairs that one operation with ``params`` needs."""
    if operation == "TransactWriteItems":
        for item in params.get("TransactItems", []):
            for kind, step in item.items():
                yield f"dynamodb:{TRANSACT_WRITE[kind]}", table_arn(step["TableName"])
    elif operation == "TransactGetItems":
        for item in params.get("TransactItems", []):
            yield "dynamodb:GetItem", table_arn(item["Get"]["TableName"])
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for table in params.get("RequestItems", {}):
            yield f"dynamodb:{operation}", table_arn(table)
    elif "TableName" in params:
        index = params.get("IndexName")
        yield f"dynamodb:{operation}", table_arn(params["TableName"]) + (f"/index/{index}" if index else "")
    else:
        yield f"dynamodb:{operation}", "*"


class CallRecorder:
    """Keeps each distinct access once; with ``log``, also appends it there as a JSON line."""

    def __init__(self, log: str | None = None) -> None:
        self.seen: set[Access] = set()
        self._log = log
        self._lock = threading.Lock()

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = template.running_function()
        if function is None:
            return
        if model.service_model.service_name == "scheduler":
            accesses = [Access(function, *access) for access in scheduler_access(model.name, params)]
        else:
            accesses = [Access(function, *access) for access in authorised_as(model.name, params)]
        for access in accesses:
            with self._lock:
                if access in self.seen:
                    continue
                self.seen.add(access)
                if self._log is not None:
                    with open(self._log, "a") as log:
                        log.write(json.dumps(access.__dict__) + "\n")

    def install(self) -> None:
        """Watch every botocore session created from now on."""
        botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build.dynamodb", self))
        botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build.scheduler", self))


_subprocess_logs: list[Path] = []  # the folder, once made


def log_for_subprocess() -> str:
    """A new file for a server in a subprocess to write its functions' calls to."""
    if not _subprocess_logs:
        _subprocess_logs.append(Path(tempfile.mkdtemp(prefix="dynamodb-calls-")))
    handle, path = tempfile.mkstemp(suffix=".jsonl", dir=_subprocess_logs[0])
    os.close(handle)
    return path


def from_subprocesses() -> set[Access]:
    return {
        Access(**json.loads(line))
        for folder in _subprocess_logs
        for log in folder.glob("*.jsonl")
        for line in log.read_text().splitlines()
    }


@dataclass
class DynamoCalls:
    """DynamoDB calls the service's client made, with request and response bytes."""

    operations: list[str] = field(default_factory=list)
    request_bytes: int = 0
    response_bytes: int = 0

    def reset(self) -> None:
        self.operations.clear()
        self.request_bytes = self.response_bytes = 0

    @property
    def count(self) -> int:
        return len(self.operations)

    def by_operation(self) -> Counter[str]:
        return Counter(self.operations)
