"""Whether the two sides of an overhead measurement did the same thing: same DynamoDB calls, same answers.

Per sample, each side's *exchange* is written down: every DynamoDB call (operation, the request body
it sent and the response body it got, both parsed) and the Lambda response it returned (status,
headers, cookies, body parsed). Two exchanges are the same when they are equal as JSON values after
masking what a request generates from the clock, and only that:

- ISO timestamps (the service's ``…T…:…:….mmmZ``) at or after the moment sampling began: a write's
  ``updatedAt`` and ``publishedAt``. Older ones (``createdAt``, every seeded value) are compared.
- the list index's sort key ``<rank>#<inverted epoch ms>#<flow>``, when the time it encodes is as recent.
- epoch seconds from the minute before sampling began to two minutes after now: the rate limit's
  window key and expiry, which move with the clock's minute.

A read generates nothing, so its answer is compared unmasked; its rate-limit call is masked like any
other. A route is comparable when every sample of each side had the same exchange, the same on both
sides, and every answer was a 200 (see ``differences``).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.baseline.writes import MAX_EPOCH_MS
from bench.dynamodb_probe import Call

ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
LIST_SORT_KEY_TIME = re.compile(r"(?<=\d#)\d{13}(?=#)")
EPOCH_SECONDS = re.compile(r"\b1\d{9}\b")
RATE_WINDOW_SECONDS, RATE_EXPIRY_SECONDS = 60, 120
SHOWN_CHARACTERS = 80  # of a differing value, in a problem's text
Exchange = dict[str, Any]


@dataclass(frozen=True)
class ClockMasks:
    """Masks the values a request generated from the clock since ``since`` (time.time())."""

    since: float

    def mask(self, text: str) -> str:
        """Called right after a sample, so ``now`` bounds what the sample can have generated."""
        now, since_ms = time.time(), math.floor(self.since * 1000)
        text = ISO_TIMESTAMP.sub(
            lambda m: "<now>" if _epoch_ms(m.group()) >= since_ms else m.group(),
            text,
        )
        text = LIST_SORT_KEY_TIME.sub(
            lambda m: "<now>" if MAX_EPOCH_MS - int(m.group()) >= since_ms else m.group(),
            text,
        )
        earliest, latest = self.since - RATE_WINDOW_SECONDS, now + RATE_EXPIRY_SECONDS
        return EPOCH_SECONDS.sub(lambda m: "<minute>" if earliest <= int(m.group()) <= latest else m.group(), text)

    def parsed(self, text: bytes | str) -> Any:
        decoded = text.decode() if isinstance(text, bytes) else text
        return json.loads(self.mask(decoded)) if decoded else None


def _epoch_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)  # exact: the text has whole milliseconds


def exchange(calls: Sequence[Call], response: dict[str, Any], masks: ClockMasks, *, generates: bool) -> Exchange:
    """One sample's calls and answer, masked (the answer only when the route ``generates``: a write)."""
    answer = json.loads(masks.mask(json.dumps(response))) if generates else dict(response)
    answer["body"] = json.loads(answer["body"]) if answer.get("body") else None
    return {
        "dynamodb": [
            {"call": call.describe(), "request": masks.parsed(call.request), "response": masks.parsed(call.response)}
            for call in calls
        ],
        "answer": answer,
    }


@dataclass
class Observed:
    """What one side of a route did over all its samples: statuses, and its distinct exchanges."""

    statuses: list[int] = field(default_factory=list)
    exchanges: dict[str, Exchange] = field(default_factory=dict)  # by canonical JSON text

    def add(self, sample: Exchange) -> None:
        self.statuses.append(sample["answer"]["statusCode"])
        self.exchanges.setdefault(json.dumps(sample, sort_keys=True), sample)

    def calls(self) -> list[str]:
        """The DynamoDB calls of the first exchange, e.g. ``["UpdateItem(RateLimitTable)", …]``."""
        first: Exchange = next(iter(self.exchanges.values()), {"dynamodb": []})
        return [call["call"] for call in first["dynamodb"]]


def differences(real: Observed, floor: Observed) -> list[str]:
    """Why the two sides are not comparable (empty when they are)."""
    problems = []
    if set(real.statuses) != {200} or set(floor.statuses) != {200}:
        problems.append(f"statuses: real {sorted(set(real.statuses))}, baseline {sorted(set(floor.statuses))}")
    for name, side in (("real", real), ("baseline", floor)):
        if len(side.exchanges) > 1:
            first, second = list(side.exchanges.values())[:2]
            problems.append(f"the {name} side varied between samples: {first_difference(first, second)}")
    if real.exchanges and floor.exchanges:
        difference = first_difference(next(iter(real.exchanges.values())), next(iter(floor.exchanges.values())))
        if difference:
            problems.append(f"real and baseline differ: {difference}")
    return problems


def first_difference(real: Any, floor: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, as ``at <path>: real …, baseline …``; None when equal."""
    if isinstance(real, dict) and isinstance(floor, dict):
        for name in [*real, *(name for name in floor if name not in real)]:
            if name not in real or name not in floor:
                return _shown(f"{path}.{name}", real.get(name, "(absent)"), floor.get(name, "(absent)"))
            if found := first_difference(real[name], floor[name], f"{path}.{name}"):
                return found
        return None
    if isinstance(real, list) and isinstance(floor, list):
        for index, (left, right) in enumerate(zip(real, floor, strict=False)):
            # A DynamoDB call is named by what the real side called, e.g. "dynamodb[1] GetItem(FlowsTable)".
            named = f" {left['call']}" if isinstance(left, dict) and "call" in left else ""
            if found := first_difference(left, right, f"{path}[{index}]{named}"):
                return found
        if len(real) != len(floor):
            return _shown(f"{path} length", len(real), len(floor))
        return None
    return None if real == floor and type(real) is type(floor) else _shown(path, real, floor)


def _shown(path: str, real: Any, floor: Any) -> str:
    def short(value: Any) -> str:
        text = json.dumps(value) if not isinstance(value, str) else repr(value)
        return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"

    return f"at {path.lstrip('.') or '(top)'}: real {short(real)}, baseline {short(floor)}"
