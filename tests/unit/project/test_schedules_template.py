"""What runs the schedules on AWS, read from template.yaml as SAM deploys it (tests/support/iam.py):
the execution role EventBridge Scheduler assumes and its single target, the permissions of the
functions that make schedules, the sweeper's rule, the dead-letter queue and the alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from decision_flows_local import template
from tests.support import iam

SCHEDULING_FUNCTIONS = (
    "ChangesFunction",
    "PublishFunction",
    "RolloutFunction",
    "RollbackFunction",
    "DraftsFunction",
    "ScheduleFunction",
)
GROUP = iam.resolve({"Ref": "ScheduleGroup"})
SCHEDULE = f"arn:aws:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule/{GROUP}/change-0a1b2c"
SCHEDULER_ROLE = iam.resolve({"Fn::GetAtt": ["SchedulerRole", "Arn"]})
SCHEDULE_FUNCTION = iam.resolve({"Fn::GetAtt": ["ScheduleFunction", "Arn"]})
DEAD_LETTERS = iam.resolve({"Fn::GetAtt": ["SchedulesDeadLetterQueue", "Arn"]})
TO_SCHEDULER = {"iam:PassedToService": "scheduler.amazonaws.com"}


def resource(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = iam.deployed()["Resources"][name]["Properties"]
    return properties


def scheduler_settings(function: str) -> dict[str, Any]:
    variables = resource(function)["Environment"]["Variables"]
    return {name: iam.resolve(value) for name, value in variables.items() if name.startswith("SCHEDULE")}


class TestTheExecutionRole:
    def test_only_this_accounts_schedules_of_the_stacks_group_may_assume_it(self) -> None:
        (trust,) = iam.resolve(resource("SchedulerRole")["AssumeRolePolicyDocument"])["Statement"]
        assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": iam.ACCOUNT},
            "ArnEquals": {"aws:SourceArn": f"arn:aws:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule-group/{GROUP}"},
        }

    def test_it_may_invoke_the_firing_function_and_send_to_the_dead_letter_queue_only(self) -> None:
        role = resource("SchedulerRole")
        assert set(role) == {"AssumeRolePolicyDocument", "Policies"}  # no managed policy widens it
        statements = [
            (statement["Action"], statement["Resource"])
            for policy in role["Policies"]
            for statement in iam.resolve(policy["PolicyDocument"])["Statement"]
        ]
        assert sorted(statements) == [("lambda:InvokeFunction", SCHEDULE_FUNCTION), ("sqs:SendMessage", DEAD_LETTERS)]

    def test_the_schedules_name_the_firing_function_role_and_queue_the_stack_deploys(self) -> None:
        # The settings every function reads: an ARN built from a name must be the function's own.
        for function in SCHEDULING_FUNCTIONS:
            variables = scheduler_settings(function)
            assert variables["SCHEDULE_TARGET_ARN"] == SCHEDULE_FUNCTION, function
            assert variables["SCHEDULER_ROLE_ARN"] == SCHEDULER_ROLE, function
            assert variables["SCHEDULE_DEAD_LETTER_ARN"] == DEAD_LETTERS, function
            assert variables["SCHEDULE_GROUP_NAME"] == GROUP, function


class TestWhoMakesSchedules:
    @pytest.mark.parametrize("function", SCHEDULING_FUNCTIONS)
    def test_a_scheduling_function_manages_the_groups_schedules_and_passes_the_role_to_scheduler_only(
        self, function: str
    ) -> None:
        statements = iam.role_statements(function)
        for action in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule"):
            assert iam.allows(statements, f"scheduler:{action}", SCHEDULE), action
            other_group = SCHEDULE.replace(f"/{GROUP}/", "/default/")
            assert not iam.allows(statements, f"scheduler:{action}", other_group), action
        assert iam.allows(statements, "iam:PassRole", SCHEDULER_ROLE, TO_SCHEDULER)
        assert not iam.allows(
            statements, "iam:PassRole", SCHEDULER_ROLE, {"iam:PassedToService": "lambda.amazonaws.com"}
        )
        another_role = SCHEDULER_ROLE.replace("SchedulerRole", "StreamFunctionRole")
        assert not iam.allows(statements, "iam:PassRole", another_role, TO_SCHEDULER)

    def test_no_other_function_may_touch_a_schedule(self) -> None:
        for function in sorted(set(template.resources("AWS::Serverless::Function")) - set(SCHEDULING_FUNCTIONS)):
            statements = iam.role_statements(function)
            assert not iam.allows(statements, "scheduler:CreateSchedule", SCHEDULE), function
            assert not iam.allows(statements, "iam:PassRole", SCHEDULER_ROLE, TO_SCHEDULER), function


class TestTheFiringFunction:
    def test_the_sweeper_invokes_it_every_five_minutes_with_the_event_it_sweeps_on(self) -> None:
        (rule,) = [
            body["Properties"]
            for body in iam.resources_of("AWS::Events::Rule").values()
            if body["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ScheduleFunction", "Arn"]}
        ]
        assert rule["ScheduleExpression"] == "rate(1 minute)"
        (target,) = rule["Targets"]
        assert json.loads(target["Input"]) == template.handler_module("ScheduleFunction").SWEEP_EVENT
        assert iam.resolve(target["DeadLetterConfig"]["Arn"]) == DEAD_LETTERS

    def test_a_firing_given_up_on_lands_in_the_dead_letter_queue(self) -> None:
        (config,) = [
            body["Properties"]
            for body in iam.resources_of("AWS::Lambda::EventInvokeConfig").values()
            if body["Properties"]["FunctionName"] == {"Ref": "ScheduleFunction"}
        ]
        assert iam.resolve(config["DestinationConfig"]["OnFailure"]["Destination"]) == DEAD_LETTERS
        assert config["MaximumRetryAttempts"] <= 2
        assert iam.allows(iam.role_statements("ScheduleFunction"), "sqs:SendMessage", DEAD_LETTERS)

    def test_the_dead_letter_queue_is_encrypted_and_only_the_sweepers_rule_may_send_to_it_by_policy(self) -> None:
        assert resource("SchedulesDeadLetterQueue")["SqsManagedSseEnabled"] is True
        (statement,) = resource("SchedulesDeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": ["ScheduleFunctionSweep", "Arn"]}


class TestAlarms:
    def alarm(self, name: str) -> dict[str, Any]:
        alarm = resource(name)
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0), name
        return alarm

    def test_a_message_in_the_dead_letter_queue_alarms(self) -> None:
        alarm = self.alarm("SchedulesDeadLetterAlarm")
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert alarm["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SchedulesDeadLetterQueue", "QueueName"]}}
        ]

    def test_a_suspended_schedule_alarms(self) -> None:
        alarm = self.alarm("SchedulesSuspendedAlarm")
        assert (alarm["Namespace"], alarm["MetricName"]) == ("DecisionFlows", "SchedulesSuspended")
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "decision-flows"}]
