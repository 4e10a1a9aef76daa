"""The settings every function reads from the environment template.yaml gives it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from decision_flows.dal import client
from decision_flows.settings import DEFAULT_REQUESTS_PER_MINUTE, Settings
from decision_flows_local import template


def test_the_templates_environment_makes_valid_settings() -> None:
    environment = template.function_environment()
    settings = Settings.model_validate(environment)
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
    with pytest.raises(ValidationError):
        Settings.model_validate({name: value for name, value in environment.items() if value is not None})


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
