"""The settings every function reads from the environment template.yaml gives it."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows import runtime_wiring
from decision_flows.dal import client
from decision_flows.environment import table_name
from decision_flows.settings import DEFAULT_REQUESTS_PER_MINUTE, Settings
from decision_flows_local import template


def test_the_templates_environment_makes_valid_settings() -> None:
    environment = template.function_environment()
    settings = Settings.from_environment(environment)
    assert (settings.flows_table, settings.changes_table, settings.live_table) == (
        "FlowsTable",
        "ChangesTable",
        "LiveTable",
    )
    assert settings.requests_per_minute == DEFAULT_REQUESTS_PER_MINUTE == 500
    assert client.endpoint_url(environment) is None


@pytest.mark.parametrize(("value", "expected"), [("", None), ("http://127.0.0.1:8000", "http://127.0.0.1:8000")])
def test_an_empty_endpoint_means_aws(value: str, expected: str | None) -> None:
    assert client.endpoint_url({"DYNAMODB_ENDPOINT_URL": value}) == expected


@pytest.mark.parametrize(
    "change",
    [
        {"TABLE_NAME": None},
        {"LIVE_TABLE_NAME": "x"},  # too short for DynamoDB
        {"CHANGES_TABLE_NAME": "has space"},
        {"RATE_LIMIT_PER_MINUTE": "-1"},
        {"RATE_LIMIT_PER_MINUTE": "lots"},
    ],
)
def test_a_missing_or_malformed_variable_is_refused_at_start(change: dict[str, str | None]) -> None:
    environment = {**template.function_environment(), **change}
    variable = next(iter(change))
    with pytest.raises(ValueError, match=variable):
        Settings.from_environment({name: value for name, value in environment.items() if value is not None})


def test_a_store_that_never_answers_fails_a_call_before_any_function_times_out() -> None:
    # Given each function's Timeout as template.yaml deploys it (its own, else the Globals')
    default = template.template()["Globals"]["Function"]["Timeout"]
    functions = template.resources("AWS::Serverless::Function")
    timeouts = {name: function["Properties"].get("Timeout", default) for name, function in functions.items()}
    # When DynamoDB accepts no connection or sends no byte, on every attempt the SDK makes
    worst = client.worst_case_seconds()
    # Then the call fails (503 STORE_BUSY) with time to answer, rather than the Lambda timing out (a 500)
    assert worst < min(timeouts[name] for name in timeouts if name != "NotFoundFunction"), timeouts
    config: Any = client.client_config()
    assert (config.connect_timeout, config.read_timeout) == (
        client.CONNECT_TIMEOUT_SECONDS,
        client.READ_TIMEOUT_SECONDS,
    )
    assert config.retries == {"mode": "standard", "total_max_attempts": client.MAX_ATTEMPTS}


@pytest.mark.parametrize("value", [None, "x", "has space", "t" * 256, "ApiKeysTable\n"])
def test_the_authorizers_table_is_refused_as_the_settings_refuse_it(value: str | None) -> None:
    # Given the keys table's variable missing or malformed (the authorizer reads it without pydantic)
    environment = {**template.function_environment(), "API_KEYS_TABLE_NAME": value}
    present = {name: text for name, text in environment.items() if text is not None}
    # Then both readers refuse it at start
    with pytest.raises(ValueError, match="API_KEYS_TABLE_NAME"):
        Settings.from_environment(present)
    with pytest.raises(ValueError, match="API_KEYS_TABLE_NAME must name a DynamoDB table"):
        table_name("API_KEYS_TABLE_NAME", present)


def test_the_authorizer_reads_the_templates_keys_table() -> None:
    assert table_name("API_KEYS_TABLE_NAME", template.function_environment()) == "ApiKeysTable"


TABLES = {"TABLE_NAME": "FlowsTable", "LIVE_TABLE_NAME": "LiveTable"}


@pytest.mark.parametrize(("value", "expected"), [(None, 1000), ("", 1000), ("0", 0), ("25", 25)])
def test_the_runtime_budget_defaults_to_1000_a_second_and_zero_turns_it_off(value: str | None, expected: int) -> None:
    environment = TABLES | ({} if value is None else {runtime_wiring.RUNTIME_LIMIT_VARIABLE: value})
    assert runtime_wiring.read_settings(environment).reads_per_second == expected


@pytest.mark.parametrize(
    "change",
    [
        {"RUNTIME_RATE_LIMIT_PER_SECOND": "-1"},
        {"RUNTIME_RATE_LIMIT_PER_SECOND": "lots"},
        {"RUNTIME_RATE_LIMIT_PER_SECOND": "1.5"},
        {"LIVE_TABLE_NAME": "x"},
        {"TABLE_NAME": "has space"},
    ],
)
def test_the_runtime_paths_malformed_variables_fail_its_cold_start(change: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(change))):
        runtime_wiring.read_settings(TABLES | change)
