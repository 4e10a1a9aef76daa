"""Each function's init loads only what its routes use (issue 22: our own share of a cold start).

A module a function's requests never need, imported at init, costs every cold start its classes;
one its requests always need may wait for the first of them (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import pytest

from tests.support.function_init import modules_loaded_by

P = "decision_flows."
# The function, and modules of ours its init must not import.
NOT_AT_INIT = {
    # answers no flow; validates and diffs: the diff machinery, the commands, the live service wait
    "CompareFunction": [
        "web.views.flows",
        "models.commands",
        "domain.compare",
        "domain.config_diff",
        "domain.live",
        "web.listing_queries",
    ],
    # reads history: no flow view, no write rules, no listing of flows or versions
    "HistoryFunction": ["web.views.flows", "domain.service", "models.commands", "web.views.versions"],
    # reviews changes: no flow command bodies, no stored change or policy models (the service builds
    # them), no flow lookups' queries, no flow listing's views, no change service before a request
    "ChangesFunction": [
        "models.commands",
        "models.change",
        "models.policy",
        "web.queries",
        "web.views.flow_list",
        "domain.changes",
    ],
    # reads and replaces the policy: nothing of change requests, flows' commands or views
    "PolicyFunction": [
        "models.commands",
        "models.change",
        "models.review_commands",
        "web.views.changes",
        "web.views.flows",
        "domain.policy",
    ],
    # consumes the stream: no request bodies or views; the review records' models and readers wait
    # for the first such record (most are flow writes)
    "StreamFunction": [
        "models.commands",
        "models.review_commands",
        "models.policy_request",
        "web.routes",
        "web.views.changes",
        "models.change",
        "models.policy",
        "dal.changes",
        "dal.policies",
    ],
    # fires and sweeps schedules: no HTTP at all; the schedule and change services, the change
    # requests' models and reader, and the Scheduler adapter wait for the first firing
    "ScheduleFunction": [
        "web.api",
        "web.routes",
        "domain.schedules",
        "domain.changes",
        "dal.changes",
        "models.change",
        "scheduling.eventbridge",
    ],
    # publishes and steps rollouts: a rollout plan's firing and the scheduler wait for a plan to need them
    "PublishFunction": ["domain.plans", "domain.schedules", "models.scheduled_job", "scheduling.swept"],
    "RolloutFunction": ["domain.plans", "domain.schedules", "models.scheduled_job", "scheduling.swept"],
    # writes flows: no history, live-pointer or version-listing models, no other route family's queries
    "DraftsFunction": [
        "models.history",
        "models.live",
        "web.views.versions",
        "web.views.compare",
        "web.listing_queries",
        "web.diff_query",
    ],
}


@pytest.mark.parametrize("function", sorted(NOT_AT_INIT))
def test_a_functions_init_leaves_out_what_its_routes_never_use(function: str) -> None:
    # Given the function's handler, imported in a fresh interpreter as Lambda's init phase does
    loaded = modules_loaded_by(function)
    assert f"{P}wiring" in loaded, "the probe loaded the handler"

    # Then none of the modules its routes never need (or need only after init) came with it
    assert sorted(name for name in NOT_AT_INIT[function] if P + name in loaded) == []
