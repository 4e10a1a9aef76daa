"""One key's live state, as GET /live/state answers it, ready to decide: everything a decision needs
is computed once per state (the hash prefix, the share in basis points, the overrides, the decision
objects), so that deciding is one dict lookup and at most one sha256."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["champion", "challenger"]
Decide = Callable[[str | None], "Decision"]
MAX_PERCENT = 100


@dataclass(frozen=True, slots=True)
class Decision:
    """What a subject executes. ``config`` is shared by every decision of the same version: read it,
    do not change it. ``stale_seconds`` is 0.0 while the state is fresh (confirmed by the service
    within ``max_age``), otherwise how long ago it should have been refreshed."""

    flow_id: str
    key: str
    version: int
    role: Role
    config: Any
    published_at: str
    stale_seconds: float = 0.0


class MalformedStateError(ValueError):
    """A /live/state answer without the contract's shape."""


@dataclass(frozen=True)
class LiveState:
    """A parsed /live/state answer: ``answer`` is kept as it came (a bootstrap file holds such answers)."""

    answer: dict[str, Any]
    champion: Decision
    challenger: Decision | None
    decide: Decide

    @classmethod
    def from_answer(cls, answer: object) -> LiveState:
        if not isinstance(answer, dict):
            raise MalformedStateError("a /live/state answer is a JSON object")
        flow_id, key = _text(answer, "flowId"), _text(answer, "key")
        champion = _decision(flow_id, key, _member(answer, "champion"), "champion")
        raw_challenger = answer.get("challenger")
        if raw_challenger is None:
            return cls(answer, champion, None, _always(champion))
        if not isinstance(raw_challenger, dict):
            raise MalformedStateError("challenger is null or an object")
        challenger = _decision(flow_id, key, raw_challenger, "challenger")
        percent = raw_challenger.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 <= percent <= MAX_PERCENT:
            raise MalformedStateError("challenger.percent is a number from 0 to 100")
        # The contract's rule: include wins over exclude (the service refuses a subject in both anyway).
        overrides = dict.fromkeys(_subjects(raw_challenger, "exclude"), champion)
        overrides |= dict.fromkeys(_subjects(raw_challenger, "include"), challenger)
        prefix = f"{flow_id}:{challenger.version}:".encode()
        decide = _by_rule(champion, challenger, prefix, round(percent * 100), overrides)
        return cls(answer, champion, challenger, decide)


def _always(champion: Decision) -> Decide:
    def decide(subject: str | None) -> Decision:
        return champion

    return decide


def _by_rule(
    champion: Decision, challenger: Decision, prefix: bytes, basis_points: int, overrides: dict[str, Decision]
) -> Decide:
    """The contract's assignment: ``include`` gets the challenger, else ``exclude`` the champion, else the
    challenger when the first 8 bytes of sha256("<flowId>:<challengerVersion>:<S>"), big-endian, mod
    10 000 are below round(percent * 100). The UTF-8 of that string is the prefix's bytes followed by
    the subject's, so only the subject is encoded per call. Locals, not attributes: this is the hot path."""
    sha256, from_bytes, forced = hashlib.sha256, int.from_bytes, overrides.get

    def decide(subject: str | None) -> Decision:
        if subject is None:
            return champion
        decision = forced(subject)
        if decision is not None:
            return decision
        if from_bytes(sha256(prefix + subject.encode()).digest()[:8], "big") % 10_000 < basis_points:
            return challenger
        return champion

    return decide


def _decision(flow_id: str, key: str, version: dict[str, Any], role: Role) -> Decision:
    number = version.get("version")
    if isinstance(number, bool) or not isinstance(number, int):
        raise MalformedStateError(f"{role}.version is an integer")
    if "config" not in version:
        raise MalformedStateError(f"{role}.config is missing")
    return Decision(flow_id, key, number, role, version["config"], _text(version, "publishedAt"))


def _member(answer: dict[str, Any], name: str) -> dict[str, Any]:
    value = answer.get(name)
    if not isinstance(value, dict):
        raise MalformedStateError(f"{name} is an object")
    return value


def _text(answer: dict[str, Any], name: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str):
        raise MalformedStateError(f"{name} is a string")
    return value


def _subjects(challenger: dict[str, Any], name: str) -> list[str]:
    """An override list; absent counts as empty (an answer saved before overrides existed)."""
    subjects = challenger.get(name, [])
    if not isinstance(subjects, list) or not all(isinstance(subject, str) for subject in subjects):
        raise MalformedStateError(f"challenger.{name} is a list of strings")
    return subjects
