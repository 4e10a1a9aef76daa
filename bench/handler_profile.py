"""Where a handler's own time goes: cProfile against a store that answers instantly.

Profiling against moto would mostly show moto (its response serialiser and its table copies). So
the handler runs once for real while its DynamoDB answers are recorded, then again and again with
those answers replayed: a ``before-call`` hook that returns an answer ends botocore's call there, so
neither moto nor the HTTP layer runs. What remains is the handler's own work and the SDK's request
side (parameter validation, serialisation). Own time is summed by where each function lives.
"""

from __future__ import annotations

import copy
import cProfile
import pstats
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# First match wins: a path fragment and the area it belongs to.
AREAS = (
    # boto3's TypeSerializer/TypeDeserializer: the service's item mapping uses them, the baseline does not.
    ("/boto3/dynamodb/types.py", "boto3 TypeSerializer/TypeDeserializer"),
    ("/botocore/", "botocore/boto3 (SDK)"),
    ("/boto3/", "botocore/boto3 (SDK)"),
    ("pydantic", "pydantic"),
    ("aws_lambda_powertools", "Powertools"),
    ("/decision_flows/", "decision_flows (layer)"),
    ("/functions/", "functions (handlers)"),
    ("/bench/", "bench (baseline, probes)"),
    ("/python3.13/json/", "json"),
    ("_json.", "json"),
    ("/python3.13/", "standard library"),
)
PSTATS_OWN_TIME = 2  # where a pstats entry keeps a function's own time


class Replay:
    """Records one request's DynamoDB answers on a client, then answers its calls with them, in order."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._answers: list[tuple[Any, Any]] = []
        self._next = 0
        self._replaying = False

    def _record(self, http_response: Any, parsed: Any, **_: Any) -> None:
        if not self._replaying:
            self._answers.append((http_response, parsed))

    def _answer(self, **_: Any) -> tuple[Any, Any] | None:
        if not self._replaying:
            return None
        answer = self._answers[self._next % len(self._answers)]
        self._next += 1
        return answer

    @contextmanager
    def attached(self) -> Iterator[Replay]:
        events = self._client.meta.events
        events.register("after-call.dynamodb", self._record, unique_id="bench-replay-record")
        events.register_first("before-call.dynamodb", self._answer, unique_id="bench-replay-answer")
        try:
            yield self
        finally:
            events.unregister("after-call.dynamodb", unique_id="bench-replay-record")
            events.unregister("before-call.dynamodb", unique_id="bench-replay-answer")

    def start_replaying(self) -> None:
        self._replaying, self._next = True, 0


def profile_without_store(
    client: Any, handler: Callable[[dict[str, Any]], Any], event: dict[str, Any], rounds: int, top: int = 10
) -> dict[str, Any]:
    """``handler(event)`` for real once (recording), then ``rounds`` times profiled against the replay,
    each on its own copy of the event, made beforehand. Per request: own time by area, and the
    functions with the most own time."""
    with Replay(client).attached() as replay:
        handler(copy.deepcopy(event))
        replay.start_replaying()
        events = [copy.deepcopy(event) for _ in range(rounds)]
        profiler = cProfile.Profile()
        for fresh in events:
            profiler.runcall(handler, fresh)
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by_area: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    for (filename, line, name), entry in stats.items():
        by_area[area_of(filename, name)] += entry[PSTATS_OWN_TIME]
        functions[f"{filename.rsplit('site-packages/', 1)[-1]}:{line}({name})"] += entry[PSTATS_OWN_TIME]
    per_request_ms = 1000 / rounds
    return {
        "rounds": rounds,
        "own_ms_by_area": {area: round(seconds * per_request_ms, 3) for area, seconds in by_area.most_common()},
        "top_functions_ms": {name: round(seconds * per_request_ms, 3) for name, seconds in functions.most_common(top)},
    }


def area_of(filename: str, function: str) -> str:
    """The area a function belongs to; a C function (file "~") by its name, e.g. pydantic_core's."""
    where = function if filename == "~" else filename
    for fragment, area in AREAS:
        if fragment in where:
            return area
    return "C builtins" if filename == "~" else "other"
