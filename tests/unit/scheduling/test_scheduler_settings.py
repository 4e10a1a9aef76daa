"""Which Scheduler the functions get: EventBridge Scheduler when the four SCHEDULE_* settings are set
(on AWS), the swept store when none is (`make serve`, the tests); anything between fails at start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from decision_flows import wiring
from decision_flows.scheduling.eventbridge import EventBridgeScheduler
from decision_flows.scheduling.swept import SweptFromStore
from decision_flows.settings import Settings, settings
from decision_flows_local import template

ON_AWS = {
    "SCHEDULE_GROUP_NAME": "dfstack-ScheduleGroup-1A2B",
    "SCHEDULE_TARGET_ARN": "arn:aws:lambda:eu-west-3:210987654321:function:dfstack-schedules",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::210987654321:role/dfstack-SchedulerRole-1A2B",
    "SCHEDULE_DEAD_LETTER_ARN": "arn:aws:sqs:eu-west-3:210987654321:dfstack-SchedulesDeadLetterQueue-1A2B",
}


@pytest.fixture
def rewired() -> Iterator[None]:
    """wiring's builders forget what they built before and after the test (its settings are its own)."""
    wiring.reset()
    yield
    wiring.reset()


def test_with_every_setting_the_functions_schedule_on_eventbridge(
    monkeypatch: pytest.MonkeyPatch, rewired: None
) -> None:
    for name, value in ON_AWS.items():
        monkeypatch.setenv(name, value)
    scheduler = wiring.scheduler()
    assert isinstance(scheduler, EventBridgeScheduler)
    target = settings().schedule_target
    assert target is not None
    assert target.group_name == ON_AWS["SCHEDULE_GROUP_NAME"]


def test_without_them_the_store_is_swept(rewired: None) -> None:
    assert isinstance(wiring.scheduler(), SweptFromStore)


@pytest.mark.parametrize("value", ["", None])
def test_the_templates_local_environment_sets_none_of_them(value: str | None) -> None:
    environment = template.function_environment()
    assert [name for name in ON_AWS if environment.get(name, value) != value] == []
    assert Settings.from_environment(environment).schedule_target is None


@pytest.mark.parametrize(
    "change",
    [
        {"SCHEDULE_DEAD_LETTER_ARN": None},  # three of four
        {"SCHEDULE_GROUP_NAME": ""},
        {"SCHEDULE_GROUP_NAME": "has space"},
        {"SCHEDULE_TARGET_ARN": "arn:aws:lambda:eu-west-3:210987654321:layer:x"},
        {"SCHEDULER_ROLE_ARN": "dfstack-SchedulerRole"},
        {"SCHEDULE_DEAD_LETTER_ARN": "arn:aws:sns:eu-west-3:210987654321:topic"},
    ],
)
def test_some_of_them_or_a_malformed_one_fails_the_cold_start(change: dict[str, str | None]) -> None:
    environment = {**template.function_environment(), **ON_AWS, **change}
    with pytest.raises(ValueError, match=r"SCHEDULE|together"):
        Settings.from_environment({name: value for name, value in environment.items() if value is not None})
