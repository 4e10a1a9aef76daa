"""What an operator needs of the template, read as SAM deploys it (tests/support/iam.py).

Each function logs to a group of its own with a retention and has a reserved-concurrency decision
(a function added without them fails here), the alarms can notify through their encrypted topic,
the HTTP API writes an access log, and a half-set JWT configuration cannot be deployed.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from decision_flows_local import template
from tests.support import iam

# Lambda keeps 100 of an account's concurrency unreserved; the default quota is 1 000. The default
# reservations leave at least half of it to whatever else the account runs.
DEFAULT_ACCOUNT_CONCURRENCY = 1000
MOST_THE_DEFAULTS_RESERVE = DEFAULT_ACCOUNT_CONCURRENCY // 2


def functions() -> dict[str, dict[str, Any]]:
    return {name: body["Properties"] for name, body in iam.resources_of("AWS::Lambda::Function").items()}


def parameter_default(name: str) -> Any:
    return template.template()["Parameters"][name]["Default"]


def reserved_by_default(value: Any) -> int:
    """ReservedConcurrentExecutions as the default parameters deploy it."""
    condition, reserving, _ = value["Fn::If"]
    reserving_when_enabled = {"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "Enabled"]}
    assert template.template()["Conditions"][condition] == reserving_when_enabled, condition
    assert parameter_default("ReservedConcurrency") == "Enabled"
    return int(parameter_default(reserving["Ref"]))


class TestEveryFunction:
    def test_logs_to_a_group_of_its_own_that_expires(self) -> None:
        groups = iam.resources_of("AWS::Logs::LogGroup")
        used = []
        for function, properties in functions().items():
            group = properties.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
            assert group in groups, f"{function}: no LoggingConfig.LogGroup naming a log group of the template"
            retention = groups[group]["Properties"].get("RetentionInDays")
            assert retention == {"Ref": "FunctionLogRetentionInDays"}, (function, retention)
            used.append(group)
        assert len(used) == len(set(used)), "two functions share a log group"
        assert parameter_default("FunctionLogRetentionInDays") in (14, 30, 60, 90)

    def test_has_a_reserved_concurrency_decision(self) -> None:
        for function, properties in functions().items():
            assert "ReservedConcurrentExecutions" in properties, f"{function} has no reserved concurrency"

    def test_the_authorizer_and_the_stream_consumer_have_reservations_of_their_own(self) -> None:
        # An API function's reservation is its cap; these two must not share that number.
        api_cap = {"Ref": "ApiFunctionConcurrency"}
        for function in ("AuthorizerFunction", "StreamFunction"):
            _, reserving, _ = functions()[function]["ReservedConcurrentExecutions"]["Fn::If"]
            assert reserving != api_cap, function

    def test_the_default_reservations_leave_the_account_most_of_its_concurrency(self) -> None:
        reserved = {name: reserved_by_default(p["ReservedConcurrentExecutions"]) for name, p in functions().items()}
        print(f"reserved by default: {sum(reserved.values())} of {DEFAULT_ACCOUNT_CONCURRENCY}: {reserved}")
        assert sum(reserved.values()) <= MOST_THE_DEFAULTS_RESERVE, reserved

    def test_reservations_can_be_turned_off_for_a_small_account(self) -> None:
        for function, properties in functions().items():
            condition, _, otherwise = properties["ReservedConcurrentExecutions"]["Fn::If"]
            assert (condition, otherwise) == ("ReservingConcurrency", {"Ref": "AWS::NoValue"}), function


class TestAlarmsNotify:
    def test_the_topic_key_is_one_cloudwatch_may_use_for_this_stacks_alarms(self) -> None:
        # Given the topic every alarm notifies and the key it is encrypted with
        topic = iam.deployed()["Resources"]["AlarmTopic"]["Properties"]
        key_reference = topic.get("KmsMasterKeyId")
        assert isinstance(key_reference, dict), f"{key_reference}: an AWS managed key cannot grant CloudWatch"
        key = iam.deployed()["Resources"][key_reference["Ref"]]
        assert key["Type"] == "AWS::KMS::Key"
        assert key["Properties"]["EnableKeyRotation"] is True
        grants = [
            statement
            for statement in iam.resolve(key["Properties"]["KeyPolicy"])["Statement"]
            if statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and statement["Effect"] == "Allow"
        ]
        assert len(grants) == 1, grants
        grant = grants[0]
        assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": iam.ACCOUNT}

        # Then every alarm that notifies the topic is one the grant's aws:SourceArn names
        alarms = {
            name: body["Properties"]
            for name, body in iam.resources_of("AWS::CloudWatch::Alarm").items()
            if {"Ref": "AlarmTopic"} in body["Properties"].get("AlarmActions", [])
        }
        assert alarms
        pattern = grant["Condition"]["ArnLike"]["aws:SourceArn"]
        for name, alarm in alarms.items():
            assert "AlarmName" in alarm, f"{name}: a generated name may not match {pattern}"
            arn = f"arn:{iam.PARTITION}:cloudwatch:{iam.REGION}:{iam.ACCOUNT}:alarm:{iam.resolve(alarm['AlarmName'])}"
            assert fnmatchcase(arn, pattern), (arn, pattern)

    def test_another_stacks_alarm_is_not_granted(self) -> None:
        key = iam.resolve(iam.deployed()["Resources"]["AlarmTopicKey"]["Properties"]["KeyPolicy"])
        (pattern,) = [s["Condition"]["ArnLike"]["aws:SourceArn"] for s in key["Statement"] if "Condition" in s]
        foreign = f"arn:{iam.PARTITION}:cloudwatch:{iam.REGION}:{iam.ACCOUNT}:alarm:other-stack-alarm"
        assert not fnmatchcase(foreign, pattern)


def test_the_api_writes_an_access_log_line_per_request_with_who_what_and_why() -> None:
    (stage,) = iam.resources_of("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"].get("AccessLogSettings")
    assert settings, "the HTTP API stage has no access log"
    # The format is JSON once API Gateway has put its $context variables in.
    line = json.loads(settings["Format"])
    expected = {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "tenant": "$context.authorizer.tenantId",
        "principal": "$context.authorizer.principal",
        "authError": "$context.authorizer.authError",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "integrationError": "$context.integration.error",
        "authorizerError": "$context.authorizer.error",
    }
    assert expected.items() <= line.items()
    group = settings["DestinationArn"]["Fn::GetAtt"][0]
    assert iam.deployed()["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "AccessLogRetentionInDays"}


def condition_holds(expression: Any, parameters: dict[str, str]) -> bool | str:
    """A CloudFormation rule's condition or assertion, evaluated for the given parameter values."""
    if isinstance(expression, str):
        return expression
    ((function, argument),) = expression.items()
    if function == "Ref":
        return parameters.get(argument, str(template.template()["Parameters"][argument].get("Default", "")))
    operands = [condition_holds(item, parameters) for item in argument]
    evaluations = {
        "Fn::Equals": lambda: operands[0] == operands[1],
        "Fn::Not": lambda: not operands[0],
        "Fn::And": lambda: all(operands),
        "Fn::Or": lambda: any(operands),
    }
    return evaluations[function]()


def deploy_refused(parameters: dict[str, str]) -> list[str]:
    """The AssertDescription of every rule the parameters break, as CloudFormation checks them (on the
    template SAM's transform hands it)."""
    refused = []
    for rule in iam.deployed().get("Rules", {}).values():
        if "RuleCondition" in rule and not condition_holds(rule["RuleCondition"], parameters):
            continue
        refused += [a["AssertDescription"] for a in rule["Assertions"] if not condition_holds(a["Assert"], parameters)]
    return refused


JWKS = "https://idp.example/.well-known/jwks.json"


@pytest.mark.parametrize(
    "parameters",
    [
        {"JwtJwksUrl": JWKS},
        {"JwtJwksUrl": JWKS, "JwtIssuer": "https://idp.example/"},
        {"JwtJwksUrl": JWKS, "JwtAudience": "decision-flows"},
    ],
)
def test_a_jwks_without_issuer_or_audience_is_refused_at_deploy(parameters: dict[str, str]) -> None:
    assert deploy_refused(parameters) == ["JwtJwksUrl is set, so JwtIssuer and JwtAudience must be set too"]


@pytest.mark.parametrize(
    "parameters",
    [{}, {"JwtJwksUrl": JWKS, "JwtIssuer": "https://idp.example/", "JwtAudience": "decision-flows"}],
)
def test_api_keys_only_or_a_complete_jwt_configuration_deploys(parameters: dict[str, str]) -> None:
    assert deploy_refused(parameters) == []
