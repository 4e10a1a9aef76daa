"""LiveFunction's init (issue 23: at most 1.4x the bare boto3 floor) loads neither pydantic nor the
powertools HTTP resolver, nor the flow service: the runtime read path is the standard library, boto3
and the one Logger and Metrics. (bench/cold_start.py times it; this holds what it loads.)"""

from __future__ import annotations

from tests.support.function_init import modules_loaded_by

HEAVY = ["aws_lambda_powertools.event_handler", "decision_flows.domain.service", "decision_flows.wiring", "pydantic"]


def test_the_live_functions_init_loads_no_pydantic_resolver_or_flow_service() -> None:
    # Given LiveFunction's handler module, loaded in a fresh interpreter as Lambda's init would, with
    # its DynamoDB client made
    loaded = modules_loaded_by("LiveFunction", with_client=True)
    # Then none of the heavy modules came with it
    assert sorted(h for h in HEAVY if h in loaded) == []
