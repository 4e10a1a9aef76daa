"""The client assigns subjects exactly as the server does: against the contract's formula written out
plainly, and against the service's own function (decision_flows.domain.assignment), for thousands
of subjects and shares, overrides included."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from decision_flows.domain.assignment import Split, gets_challenger
from decision_flows_client import LiveState
from tests.client.fake_service import state_answer

SUBJECTS = [f"customer-{n}" for n in range(3_000)] + ["", "ünïcödé-☃", "a:b:c", "42", " spaced "]
PERCENTS = [0, 0.01, 12.34, 30, 50, 99.99]


def contract_role(flow_id: str, challenger: int, percent: float, subject: str) -> str:
    """The contract's rule, as it is written there."""
    digest = hashlib.sha256(f"{flow_id}:{challenger}:{subject}".encode()).digest()
    return "challenger" if int.from_bytes(digest[:8], "big") % 10000 < round(percent * 100) else "champion"


@pytest.mark.parametrize("percent", PERCENTS)
def test_the_client_assigns_by_the_contracts_formula(percent: float) -> None:
    state = LiveState.from_answer(state_answer("offers", 3, challenger=4, percent=percent))

    roles = [state.decide(subject).role for subject in SUBJECTS]

    assert roles == [contract_role("df_offers", 4, percent, subject) for subject in SUBJECTS]
    if 1 <= percent <= 99:  # a real mix, so that a rule deciding all alike would fail
        assert 0 < roles.count("challenger") < len(SUBJECTS)


def service_roles(answer: dict[str, Any], subjects: list[str]) -> list[str]:
    """The service's own assignment of ``subjects`` (what /live applies), overrides included."""
    challenger = answer["challenger"]
    split = Split(
        answer["flowId"],
        challenger["version"],
        round(challenger["percent"] * 100),
        frozenset(challenger["include"]),
        frozenset(challenger["exclude"]),
    )
    return ["challenger" if gets_challenger(split, subject) else "champion" for subject in subjects]


@pytest.mark.parametrize("percent", PERCENTS)
def test_the_client_assigns_as_the_services_own_function(percent: float) -> None:
    answer = state_answer("offers", 3, challenger=4, percent=percent, include=SUBJECTS[:20], exclude=SUBJECTS[20:40])
    state = LiveState.from_answer(answer)

    assert [state.decide(subject).role for subject in SUBJECTS] == service_roles(answer, SUBJECTS)


def test_overrides_come_before_the_hash_and_include_before_exclude() -> None:
    # Given a 0 % rollout that includes QA, and a 100-bp-short-of-all rollout that excludes a customer
    qa = LiveState.from_answer(state_answer("offers", 3, challenger=4, percent=0, include=["qa-1"]))
    almost_all = LiveState.from_answer(
        state_answer("offers", 3, challenger=4, percent=99.99, exclude=["vip", "both"], include=["both"])
    )
    hashed_in = next(s for s in SUBJECTS if contract_role("df_offers", 4, 99.99, s) == "challenger")

    assert qa.decide("qa-1").role == "challenger"
    assert {qa.decide(subject).role for subject in SUBJECTS} == {"champion"}
    assert almost_all.decide("vip").role == "champion"
    assert almost_all.decide(hashed_in).role == "challenger"
    assert almost_all.decide("both").role == "challenger"
    assert almost_all.decide(None).role == "champion"


def test_without_a_rollout_everyone_gets_the_champion() -> None:
    state = LiveState.from_answer(state_answer("offers", 3))

    assert {(state.decide(s).version, state.decide(s).role) for s in [*SUBJECTS[:100], None]} == {(3, "champion")}
