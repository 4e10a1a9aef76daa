"""What a request asks of DynamoDB, seen from botocore's events: which calls, what they sent and got
back, and how long they took.

Attached to a client, a probe keeps per call its operation, the HTTP request body it sent and the
response body it got (references to botocore's own immutable bytes: nothing is copied or parsed
while a request is timed), and its time, split into the store's own work (moto, between
``before-send`` and ``before-parse``) and the SDK's (serialising, parsing: the rest of the call,
from ``provide-client-params`` to ``after-call``). The hooks cost well under a microsecond each and
are attached to both the real and the baseline client, so they weigh the same on both sides.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.dynamo_meter import tables_named


@dataclass
class Call:
    operation: str
    started_ns: int
    sent_ns: int = 0
    answered_ns: int = 0
    finished_ns: int = 0
    request: bytes = b""
    response: bytes = b""

    @property
    def store_ns(self) -> int:
        return self.answered_ns - self.sent_ns

    @property
    def total_ns(self) -> int:
        return self.finished_ns - self.started_ns

    def describe(self) -> str:
        """The operation and the tables it named, e.g. ``GetItem(FlowsTable)``."""
        return f"{self.operation}({', '.join(sorted(tables_named(json.loads(self.request or b'{}'))))})"


@dataclass
class DynamoDBProbe:
    """Attach with ``attach(client)``; ``calls`` holds the calls since the last ``reset()``."""

    calls: list[Call] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("provide-client-params.dynamodb", self._started)
        # First, so that the clock starts before moto's own before-send hook answers the request.
        events.register_first("before-send.dynamodb", self._sent)
        events.register("before-parse.dynamodb", self._answered)
        events.register("after-call.dynamodb", self._finished)
        events.register("after-call-error.dynamodb", self._finished)

    def reset(self) -> None:
        self.calls = []

    def store_ns(self) -> int:
        return sum(call.store_ns for call in self.calls)

    def sdk_ns(self) -> int:
        return sum(call.total_ns - call.store_ns for call in self.calls)

    def _started(self, model: Any, **_: Any) -> None:
        self.calls.append(Call(model.name, time.perf_counter_ns()))

    def _sent(self, request: Any, **_: Any) -> None:
        call = self.calls[-1]
        call.sent_ns = time.perf_counter_ns()
        call.request = request.body

    def _answered(self, response_dict: dict[str, Any], **_: Any) -> None:
        call = self.calls[-1]
        call.answered_ns = time.perf_counter_ns()
        call.response = response_dict["body"]

    def _finished(self, **_: Any) -> None:
        self.calls[-1].finished_ns = time.perf_counter_ns()
