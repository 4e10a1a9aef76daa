"""What the deployed stack may do, read from template.yaml as SAM deploys it.

moto never enforces IAM, so a policy too narrow for a call passes every test and fails on AWS.
Here the template goes through SAM's own translator (samtranslator, as `sam deploy` would run it,
policy templates and generated roles included), its intrinsic functions are resolved to the ARNs a
deployment in one account and region would have, and IAM's rules decide whether a role allows an
action on a resource. Resources get physical names as a stack would give them (the stack's name,
the logical id, a suffix) in an account and region of their own, so a policy that names a table by
its local name, region or account does not pass here and fail on AWS; the recorded calls' table
names (the logical ids, as in the local runs) are mapped the same way.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from samtranslator.translator.transform import transform

from decision_flows_local import template

PARTITION, REGION, ACCOUNT = "aws", "eu-west-3", "210987654321"
STACK = "dfstack"
STREAM_LABEL = "2026-01-01T00:00:00.000"
# The AWS managed policies SAM attaches, as AWS publishes them (their non-DynamoDB, non-SQS parts
# are CloudWatch Logs). A role with a managed policy not listed here fails the reading loudly.
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


def physical_name(logical_id: str) -> str:
    return f"{STACK}-{logical_id}-1A2B3C4D5E6F"


def table_arn(table: str) -> str:
    """The deployed ARN of the table whose logical id (its local name) is ``table``."""
    return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{physical_name(table)}"


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # the policy it came from, for messages
    # StringEquals only: (key, allowed values); a request's context must hold one of them for each key.
    conditions: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    def matches(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        given = context or {}
        return (
            any(fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)
            and any(fnmatchcase(resource, pattern) for pattern in self.resources)
            and all(given.get(key) in allowed for key, allowed in self.conditions)
        )


@cache
def deployed() -> dict[str, Any]:
    """template.yaml after SAM's transform, as CloudFormation would receive it."""
    document = copy.deepcopy(template.template())
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if uri in properties:  # `sam package` would upload the folder and put its S3 URI here
                properties[uri] = "s3://deployment-bucket/artifact.zip"
    managed = {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in MANAGED_POLICIES}

    class Loader:
        def load(self) -> dict[str, str]:
            return managed

    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION
    try:
        transformed: dict[str, Any] = transform(document, {}, Loader())
    finally:
        if region is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = region
    return transformed


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in deployed()["Resources"].items() if body["Type"] == kind}


def resolve(value: Any) -> Any:
    """A template value with Ref, Fn::GetAtt and Fn::Sub replaced by what they deploy as."""
    if isinstance(value, list):
        return [resolve(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return _ref(value["Ref"])
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        name, attribute = target if isinstance(target, list) else target.split(".", 1)
        return _get_att(name, attribute)
    if "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        resolved = {name: resolve(item) for name, item in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name:
                return str(_get_att(*name.split(".", 1)))
            return str(_ref(name))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)
    return {key: resolve(item) for key, item in value.items()}


def _ref(name: str) -> str:
    pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK}
    if name in pseudo:
        return pseudo[name]
    kind = deployed()["Resources"][name]["Type"]
    if kind == "AWS::SQS::Queue":
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical_name(name)}"
    if kind == "AWS::ApiGatewayV2::Api":
        return "a1b2c3d4e5"  # an API id
    if kind == "AWS::IAM::ManagedPolicy":
        return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{physical_name(name)}"
    named = deployed()["Resources"][name].get("Properties", {}).get("FunctionName")
    if kind == "AWS::Lambda::Function" and named is not None:  # a name of its own, not a generated one
        return str(resolve(named))
    if kind == "AWS::Logs::LogGroup":
        return log_group_name(name)
    return physical_name(name)


def log_group_name(logical_id: str) -> str:
    properties = deployed()["Resources"][logical_id]["Properties"]
    return str(resolve(properties["LogGroupName"])) if "LogGroupName" in properties else physical_name(logical_id)


def _get_att(name: str, attribute: str) -> str:
    kind = deployed()["Resources"][name]["Type"]
    if kind == "AWS::Logs::LogGroup" and attribute == "Arn":  # CloudFormation's Arn ends in ":*"
        return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{log_group_name(name)}:*"
    arns = {
        ("AWS::DynamoDB::Table", "Arn"): table_arn(name),
        ("AWS::DynamoDB::Table", "StreamArn"): f"{table_arn(name)}/stream/{STREAM_LABEL}",
        ("AWS::SQS::Queue", "Arn"): f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{physical_name(name)}",
        ("AWS::Lambda::Function", "Arn"): f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{_ref(name)}",
        (
            "AWS::Scheduler::ScheduleGroup",
            "Arn",
        ): f"arn:{PARTITION}:scheduler:{REGION}:{ACCOUNT}:schedule-group/{_ref(name)}",
        ("AWS::IAM::Role", "Arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:role/{physical_name(name)}",
    }
    if (kind, attribute) not in arns:
        raise NotImplementedError(f"Fn::GetAtt {name}.{attribute} ({kind})")
    return arns[(kind, attribute)]


def role_of(function: str) -> str:
    role = resources_of("AWS::Lambda::Function")[function]["Properties"]["Role"]
    name: str = role["Fn::GetAtt"][0]
    return name


def role_statements(function: str) -> list[Statement]:
    """Every statement of the function's execution role: inline policies and managed ones."""
    role_name = role_of(function)
    role = deployed()["Resources"][role_name]["Properties"]
    unread = set(role) - {"AssumeRolePolicyDocument", "Policies", "ManagedPolicyArns", "Tags"}
    attached = [
        name
        for name, resource in deployed()["Resources"].items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
        and {"Ref": role_name} in resource["Properties"].get("Roles", [resource["Properties"].get("RoleName")])
    ]
    if unread or attached:  # a permissions boundary or a policy of its own could narrow or widen it
        raise NotImplementedError(f"{function}: role properties {sorted(unread)} / policies {attached} are not read")
    found = []
    for policy in role.get("Policies", []):
        for raw in resolve(policy["PolicyDocument"])["Statement"]:
            found.append(_statement(raw, policy["PolicyName"]))
    for arn in role.get("ManagedPolicyArns", []):
        own = str(arn.get("Ref")) if isinstance(arn, dict) else ""
        if own in deployed()["Resources"]:  # a managed policy of the stack's own
            document = resolve(deployed()["Resources"][own]["Properties"]["PolicyDocument"])
            found += [_statement(raw, own) for raw in document["Statement"]]
            continue
        name = resolve(arn).rsplit("/", 1)[1]
        if name not in MANAGED_POLICIES:
            raise NotImplementedError(f"{function}: managed policy {name} is not known to this reading")
        found += [_statement(raw, name) for raw in MANAGED_POLICIES[name]]
    return found


def _statement(raw: dict[str, Any], source: str) -> Statement:
    unsupported = set(raw) - {"Effect", "Action", "Resource", "Sid", "Condition"}
    operators = set(raw.get("Condition", {})) - {"StringEquals"}
    if unsupported or operators:  # NotAction, NotResource, Principal, other operators: refused, not misread
        raise NotImplementedError(
            f"{source}: statement keys {sorted(unsupported)} / Condition {sorted(operators)} are not read by this check"
        )

    def strings(value: Any) -> tuple[str, ...]:
        return tuple(value) if isinstance(value, list) else (value,)

    conditions = tuple(
        (key, strings(values)) for key, values in raw.get("Condition", {}).get("StringEquals", {}).items()
    )
    return Statement(raw["Effect"], strings(raw["Action"]), strings(raw["Resource"]), source, conditions)


def allows(statements: list[Statement], action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
    """IAM's rule: an explicit Deny wins, otherwise some Allow must match (``context``: the request's
    condition keys, e.g. iam:PassedToService)."""
    matching = [statement for statement in statements if statement.matches(action, resource, context)]
    return bool(matching) and all(statement.effect == "Allow" for statement in matching)


# What Lambda's poller calls with a stream consumer's role: no DynamoDB call of the function's own shows
# them, so tests/unit/project/test_least_privilege.py holds them against the event source mappings instead.
STREAM_READS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


def mapped_streams(function: str) -> set[str]:
    """The deployed ARNs of the streams the function's event source mappings read."""
    return {
        resolve(mapping["Properties"]["EventSourceArn"])
        for mapping in resources_of("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": function}
    }


def dynamodb_grants(function: str) -> list[tuple[str, str, str]]:
    """(action, resource pattern, policy) of every action the template itself grants the function
    that can reach DynamoDB (``*`` and ``dynamodb*`` included); neither the managed policies SAM adds
    nor a consumer's stream reads on the stream its mapping names are listed (the poller uses those)."""
    streams = mapped_streams(function)
    return [
        (action, resource, statement.source)
        for statement in role_statements(function)
        if statement.source not in MANAGED_POLICIES and statement.effect == "Allow"
        for action in statement.actions
        if fnmatchcase("dynamodb", action.lower().split(":", 1)[0])  # the action's service part
        for resource in statement.resources
        if not (action in STREAM_READS and resource in streams)
    ]
