"""The runtime reads' budget: requests per tenant per second, counted in memory."""

from __future__ import annotations

import pytest

from decision_flows.domain.runtime_budget import RuntimeBudget

SECOND = 1_800_000_000.0


def test_over_the_limit_is_refused_for_the_rest_of_the_second_and_the_next_admits_again() -> None:
    budget = RuntimeBudget(3)

    answers = [budget.admit("t", SECOND + 0.1 * n) for n in range(5)]

    assert answers == [None, None, None, 1, 1]
    assert budget.admit("t", SECOND + 1.0) is None


def test_tenants_have_a_budget_each() -> None:
    budget = RuntimeBudget(1)
    assert [budget.admit("a", SECOND), budget.admit("b", SECOND), budget.admit("a", SECOND)] == [None, None, 1]


def test_a_refused_request_counts_so_hammering_stays_refused_until_the_second_turns() -> None:
    budget = RuntimeBudget(2)
    for _ in range(1000):
        budget.admit("t", SECOND)
    assert budget.admit("t", SECOND + 0.99) == 1
    assert budget.admit("t", SECOND + 1.5) is None


def test_only_the_current_seconds_tenants_are_remembered() -> None:
    # Given 10 000 tenants read in one second
    budget = RuntimeBudget(5)
    for n in range(10_000):
        budget.admit(f"tenant-{n}", SECOND)

    # When the next second starts, then the counts of the last one are forgotten
    budget.admit("tenant-0", SECOND + 1)
    assert len(budget._counts) == 1


def test_a_budget_of_nothing_is_no_budget() -> None:
    with pytest.raises(ValueError, match="0 means no budget"):
        RuntimeBudget(0)
