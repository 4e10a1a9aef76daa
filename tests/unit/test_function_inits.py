"""Each function's init loads only what its routes use (issue 22: our own share of a cold start).

A module a function's requests never need, imported at init, costs every cold start its classes;
one its requests always need may wait for the first of them (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import ast
import sys

import pytest

from decision_flows_local import template
from tests.support.function_init import init_of, modules_loaded_by

P = "decision_flows."
# The flow commands' bodies by the function that parses them (the emergency: rollback's and abort's).
COMMANDS = {
    "DraftsFunction": ["models.draft_commands"],
    "PublishFunction": ["models.publish_commands"],
    "RollbackFunction": ["models.rollback_commands", "models.emergency"],
    "RolloutFunction": ["models.rollout_commands", "models.emergency"],
}
ALL_COMMANDS = sorted({module for modules in COMMANDS.values() for module in modules})


def other_commands(function: str) -> list[str]:
    return [module for module in ALL_COMMANDS if module not in COMMANDS[function]]


# The function, and modules of ours its init must not import.
NOT_AT_INIT = {
    # answers no flow; validates and diffs: the diff machinery, the commands, the live service wait
    "CompareFunction": [
        "web.views.flows",
        *ALL_COMMANDS,
        "domain.compare",
        "domain.config_diff",
        "domain.live",
        "web.listing_queries",
    ],
    # reads history: no flow view, no write rules, no listing of flows or versions
    "HistoryFunction": ["web.views.flows", "domain.service", *ALL_COMMANDS, "web.views.versions"],
    # reviews changes: no flow command bodies, no stored change or policy models (the service builds
    # them), no flow lookups' queries, no flow listing's views, no change service before a request
    "ChangesFunction": [
        *ALL_COMMANDS,
        "models.change",
        "models.policy",
        "web.queries",
        "web.views.flow_list",
        "domain.changes",
    ],
    # reads and replaces the policy: nothing of change requests, flows' commands or views
    "PolicyFunction": [
        *ALL_COMMANDS,
        "models.change",
        "models.review_commands",
        "web.views.changes",
        "web.views.flows",
        "domain.policy",
    ],
    # consumes the stream: no request bodies or views; the review records' models and readers wait
    # for the first such record (most are flow writes)
    "StreamFunction": [
        *ALL_COMMANDS,
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
    # publishes and steps rollouts: a rollout plan's firing and the scheduler wait for a plan to need them;
    # no other family's command bodies (nor in any writing function)
    "PublishFunction": [
        "domain.plans",
        "domain.schedules",
        "models.scheduled_job",
        "scheduling.swept",
        *other_commands("PublishFunction"),
    ],
    "RolloutFunction": [
        "domain.plans",
        "domain.schedules",
        "models.scheduled_job",
        "scheduling.swept",
        *other_commands("RolloutFunction"),
    ],
    "RollbackFunction": other_commands("RollbackFunction"),
    # writes flows: no history, live-pointer or version-listing models, no other route family's queries
    "DraftsFunction": [
        *other_commands("DraftsFunction"),
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


@pytest.mark.parametrize("function", sorted(COMMANDS))
def test_a_writing_functions_first_request_defines_no_other_familys_command_bodies(function: str) -> None:
    # Given the function's init and then its flow service, as its first request builds it (the service
    # names every family's bodies, in annotations only)
    loaded = modules_loaded_by(function, with_flow_service=True)
    assert f"{P}domain.service" in loaded, "the probe built the flow service"

    # Then its own bodies were loaded and no other family's
    assert sorted(P + name for name in COMMANDS[function] if P + name not in loaded) == []
    assert sorted(name for name in other_commands(function) if P + name in loaded) == []


FUNCTIONS = template.resources("AWS::Serverless::Function")


# The runtime path's functions (issue 23) keep their own records: their goal is met with room to spare.
AT_THE_MANAGEMENT_GOAL = sorted(set(FUNCTIONS) - {"AuthorizerFunction", "LiveFunction"})
# A dataclass that validates itself on construction (__post_init__), which a NamedTuple cannot.
DATACLASSES_AT_INIT = {f"{P}models.identity.Identity"}


@pytest.mark.parametrize("function", AT_THE_MANAGEMENT_GOAL)
def test_a_functions_init_defines_its_records_without_dataclasses(function: str) -> None:
    # Given the function's handler, imported in a fresh interpreter as Lambda's init phase does
    init = init_of(function)

    # Then the records its init defines are NamedTuples or plain classes: a frozen dataclass costs
    # 0.5 to 0.75 ms to define, its methods compiled from source, a NamedTuple ≈0.08 (decision_flows/startup.py)
    assert sorted(set(init.dataclasses) - DATACLASSES_AT_INIT) == []


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_functions_init_builds_the_ports_protocols(function: str) -> None:
    # Given the function's handler, imported in a fresh interpreter as Lambda's init phase does
    init = init_of(function)

    # Then the domain's ports (Protocol classes: annotations only) were not loaded
    assert f"{P}domain.ports" not in init.modules


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_a_functions_init_runs_with_the_collector_off_and_leaves_it_on(function: str) -> None:
    # Given the function's handler, imported in a fresh interpreter as Lambda's init phase does
    init = init_of(function)

    # Then the collector runs again after init, with what init built frozen out of its collections
    # (more objects than the interpreter alone tracks: the handler's modules were loaded first)
    assert init.collecting
    assert init.frozen > 10_000


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_a_handler_imports_startup_before_any_library_and_ends_by_calling_it(function: str) -> None:
    # Given the handler module's source
    handler = template.ROOT / FUNCTIONS[function]["Properties"]["CodeUri"] / "app.py"
    statements = ast.parse(handler.read_text()).body
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in statements
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    outside_stdlib = [name for name in imported if name and name.split(".")[0] not in sys.stdlib_module_names]

    # Then decision_flows.startup comes before every library, and its call is the module's last statement
    assert outside_stdlib[0] == "decision_flows.startup"
    last = statements[-1]
    assert isinstance(last, ast.Expr)
    assert ast.unparse(last.value) == "modules_loaded()"
