"""LiveClient: each key's live state in memory, refreshed on a call once it is older than max_age.

The fresh path of ``get`` is one dict lookup, one monotonic clock read and the state's own decision
(``state.py``): no lock. Everything else (the first read, a due refresh, failures, errors) goes
through ``_refresh_or_answer`` under one lock, which is held only to read and change the per-key
bookkeeping, never during HTTP, so that other threads keep answering from memory meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from decision_flows_client.errors import (
    AuthenticationError,
    DecisionFlowsError,
    FlowNotFoundError,
    PermissionDeniedError,
    RequestRefusedError,
    ServiceUnavailableError,
)
from decision_flows_client.retry import backoff, retry_after_seconds
from decision_flows_client.state import Decide, Decision, LiveState, MalformedStateError
from decision_flows_client.transport import Reply, Transport, TransportError, urllib_get

__version__ = "0.1.0"
STATE_PATH = "/api/v1/decision-flows/live/state"
# How many keys a client remembers by default: far more than a service executes, few enough that keys
# taken from its callers' input (a typo, an attack) cannot grow its memory without bound.
DEFAULT_MAX_KEYS = 1_000
# Statuses a later attempt may cure; any other 4xx is raised as the service's word.
RETRYABLE_CLIENT_STATUSES = {408, 425, 429}
REFUSALS: dict[int, type[DecisionFlowsError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: FlowNotFoundError,
}


@dataclass
class _KeyRecord:
    """What the client knows of one key. ``confirmed_at``: when the service last vouched for ``state``
    (200 or 304), on the client's monotonic clock; ``retry_at``: no refresh before it; ``refusal``: the
    error every call raises until ``retry_at`` (a 4xx the service answered)."""

    state: LiveState | None = None
    etag: str | None = None
    confirmed_at: float = 0.0
    retry_at: float = 0.0
    failures: int = 0
    refreshing: bool = False
    refusal: DecisionFlowsError | None = None
    last_failure: str = ""


class LiveClient:
    """Decisions for runtime callers: see the package's README for the semantics.

    ``transport`` and ``clock`` are seams for tests and embedding (another HTTP stack, a fake clock);
    the defaults are urllib and ``time.monotonic``."""

    def __init__(  # noqa: PLR0913 (the contract's signature, plus the keyword-only seams)
        self,
        base_url: str,
        api_key: str,
        tenant: str,
        max_age: float = 15.0,
        timeout: float = 2.0,
        bootstrap: str | Path | None = None,
        *,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if max_age <= 0 or timeout <= 0:
            raise ValueError("max_age and timeout are positive numbers of seconds")
        if max_keys < 1:
            raise ValueError("max_keys is at least 1")
        self._url = base_url.rstrip("/") + STATE_PATH + "?key="
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "X-Tenant-Id": tenant,
            "Accept": "application/json",
            "User-Agent": f"decision-flows-client/{__version__}",
        }
        self._max_age, self._timeout = max_age, timeout
        self._transport = transport or urllib_get
        self._clock = clock
        # key -> (fresh until, decide): the lock-free path. Replaced whole, never changed in place.
        self._fresh: dict[str, tuple[float, Decide]] = {}
        # Least recently refreshed first: past max_keys, the first idle one is forgotten.
        self._records: OrderedDict[str, _KeyRecord] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        if bootstrap is not None:
            self._load_bootstrap(Path(bootstrap))

    def get(self, key: str, subject: str | None = None) -> Decision:
        """The decision for ``subject`` (None: the champion) under ``key``, from memory while fresh."""
        held = self._fresh.get(key)
        if held is not None and self._clock() < held[0]:
            return held[1](subject)
        return self._refresh_or_answer(key, subject)

    def saved_states(self) -> list[dict[str, Any]]:
        """The /live/state answers the client holds, as a bootstrap file takes them: ``json.dump`` them
        to a file, and a client started from it answers those keys even if the service cannot be read."""
        with self._lock:
            return [record.state.answer for record in self._records.values() if record.state is not None]

    def _refresh_or_answer(self, key: str, subject: str | None) -> Decision:
        with self._lock:
            record = self._record(key)
            while record.refreshing and record.state is None:
                self._settled.wait()  # nothing to answer with: wait for the refresh in flight
            now = self._clock()
            if record.refreshing or now < record.retry_at or now < record.confirmed_at + self._max_age:
                return self._answer(record, subject, now)
            record.refreshing = True
            etag = record.etag
        try:
            outcome = self._fetch(key, etag)
        except BaseException:
            with self._lock:
                self._failed(record, "refresh interrupted", None, self._clock())
                record.refreshing = False
                self._settled.notify_all()
            raise
        with self._lock:  # one hold: no other thread sees the refresh over and its outcome not yet in
            now = self._clock()
            self._settle(key, record, outcome, now)
            record.refreshing = False
            self._settled.notify_all()
            return self._answer(record, subject, now)

    def _record(self, key: str) -> _KeyRecord:
        """The key's record, now the most recently used (under the lock); a new key may push out the least
        recently used idle one, which its next call reads afresh, as a key never read."""
        record = self._records.get(key)
        if record is not None:
            self._records.move_to_end(key)
            return record
        record = self._records[key] = _KeyRecord()
        if len(self._records) > self._max_keys:
            idle = next((name for name, held in self._records.items() if not held.refreshing), None)
            if idle is not None and idle != key:
                del self._records[idle]
                self._fresh.pop(idle, None)
        return record

    def _answer(self, record: _KeyRecord, subject: str | None, now: float) -> Decision:
        """From memory: the refusal the service gave, else the state (stale_seconds past its max_age)."""
        if record.refusal is not None:
            raise _again(record.refusal)
        if record.state is None:
            raise ServiceUnavailableError(f"no live state yet and the service could not be read: {record.last_failure}")
        decision = record.state.decide(subject)
        overdue = now - record.confirmed_at - self._max_age
        return replace(decision, stale_seconds=overdue) if overdue > 0 else decision

    def _fetch(self, key: str, etag: str | None) -> Reply | str:
        """The service's reply, or why there was none."""
        headers = self._headers if etag is None else {**self._headers, "If-None-Match": etag}
        try:
            return self._transport(self._url + urllib.parse.quote(key, safe=""), headers, self._timeout)
        except TransportError as error:
            return str(error)

    def _settle(self, key: str, record: _KeyRecord, outcome: Reply | str, now: float) -> None:
        """Take in a refresh's outcome (under the lock)."""
        if isinstance(outcome, str):
            return self._failed(record, outcome, None, now)
        status = outcome.status
        if status == 304 and record.state is not None:
            return self._confirmed(key, record, record.state, record.etag, now)
        if status == 200:
            try:
                state = LiveState.from_answer(json.loads(outcome.body))
            except (ValueError, UnicodeDecodeError) as error:  # json's errors are ValueErrors
                return self._failed(record, f"unreadable answer: {error}", None, now)
            return self._confirmed(key, record, state, outcome.headers.get("etag"), now)
        if status >= 500 or status in RETRYABLE_CLIENT_STATUSES or status < 400:
            return self._failed(record, f"HTTP {status}", retry_after_seconds(outcome.headers.get("retry-after")), now)
        return self._refused(key, record, outcome, now)

    def _confirmed(self, key: str, record: _KeyRecord, state: LiveState, etag: str | None, now: float) -> None:
        record.state, record.etag, record.confirmed_at = state, etag, now
        record.failures, record.retry_at, record.refusal = 0, 0.0, None
        self._fresh[key] = (now + self._max_age, state.decide)

    def _failed(self, record: _KeyRecord, reason: str, retry_after: float | None, now: float) -> None:
        record.failures += 1
        record.last_failure = reason
        record.retry_at = now + backoff(record.failures, retry_after)

    def _refused(self, key: str, record: _KeyRecord, reply: Reply, now: float) -> None:
        """A 4xx that retrying cannot cure. A 404 ends what the client knows of the key (the flow was
        paused, archived or deleted: nothing is to be executed); the refusal is answered from memory
        for max_age, as a state would be, so that a missing key costs one request per max_age too.
        401 and 403 back off like failures: a revoked key must not turn a fleet into a flood."""
        error_type = REFUSALS.get(reply.status, RequestRefusedError)
        title, code = _problem(reply.body)
        record.refusal = error_type(f"HTTP {reply.status}: {title}", reply.status, code)
        self._fresh.pop(key, None)
        if reply.status == 404:
            record.state, record.etag, record.failures = None, None, 0
            record.retry_at = now + self._max_age
        else:
            record.failures += 1
            record.retry_at = now + max(backoff(record.failures, None), self._max_age)

    def _load_bootstrap(self, path: Path) -> None:
        """Saved /live/state answers, counted as due for refresh now (they may be old): the first call
        of each key refreshes it and, should that fail, answers from it."""
        answers = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(answers, list):
            raise MalformedStateError(f"{path}: a bootstrap file is one JSON array of /live/state answers")
        due = self._clock() - self._max_age
        for answer in answers:
            state = LiveState.from_answer(answer)
            self._records[state.champion.key] = _KeyRecord(state=state, confirmed_at=due)


def _again(error: DecisionFlowsError) -> DecisionFlowsError:
    """A new exception like ``error``: one instance raised in many threads would share its traceback."""
    return type(error)(str(error), error.status, error.code)


def _problem(body: bytes) -> tuple[str, str | None]:
    """The title (or detail) and code of an RFC 9457 problem body, as far as there is one."""
    try:
        problem: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "(no problem details)", None
    if not isinstance(problem, dict):
        return "(no problem details)", None
    code = problem.get("code")
    text = problem.get("detail") or problem.get("title") or ""
    return str(text), code if isinstance(code, str) else None
