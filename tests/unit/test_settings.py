"""The store settings read from the environment that template.yaml gives every function."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from decision_flows.dal.client import EndpointSettings, StoreSettings
from decision_flows_local import template


def test_the_templates_environment_makes_valid_settings() -> None:
    environment = template.function_environment()
    assert StoreSettings.model_validate(environment).table_name == "FlowsTable"
    assert EndpointSettings.model_validate(environment).endpoint_url is None


@pytest.mark.parametrize(("value", "expected"), [("", None), ("http://127.0.0.1:8000", "http://127.0.0.1:8000")])
def test_an_empty_endpoint_means_aws(value: str, expected: str | None) -> None:
    settings = EndpointSettings.model_validate({"DYNAMODB_ENDPOINT_URL": value})
    assert settings.endpoint_url == expected


def test_a_missing_table_name_is_refused_at_start() -> None:
    with pytest.raises(ValidationError):
        StoreSettings.model_validate({})
