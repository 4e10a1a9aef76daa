"""The least-privilege check itself: it reads the template as SAM deploys it and IAM decides.

The session-wide check (tests/conftest.py) holds every DynamoDB call the functions made against
their roles; these tests show that it would notice a grant removed by mistake, and they cover what
no DynamoDB call shows: the stream's event source mapping, its failure queue and the authorizer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from decision_flows_local import template
from tests.support import iam, least_privilege
from tests.support.dynamodb_calls import Access, authorised_as

FLOWS = iam.table_arn("FlowsTable")


@pytest.fixture
def edited_template(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A copy of template.yaml that a test may change; the reading uses it instead of the file."""
    document = copy.deepcopy(template.template())
    monkeypatch.setattr(template, "template", lambda: document)
    iam.deployed.cache_clear()
    yield document
    iam.deployed.cache_clear()


def test_a_grant_removed_from_the_template_makes_its_calls_denied(edited_template: dict[str, Any]) -> None:
    # Given a publish's calls, allowed by the template as it is
    publish_writes = Access("PublishFunction", "dynamodb:PutItem", FLOWS)
    assert least_privilege.denied([publish_writes]) == []

    # When the statement that grants writes on the flows table is taken out
    policies = edited_template["Resources"]["PublishFunction"]["Properties"]["Policies"]
    for policy in policies:
        if "Statement" in policy:  # not the schedules' managed policy, a !Ref
            policy["Statement"] = [s for s in policy["Statement"] if "dynamodb:PutItem" not in s["Action"]]
    iam.deployed.cache_clear()

    # Then the same call is denied
    assert least_privilege.denied([publish_writes]) == [publish_writes]


def test_a_grant_nothing_uses_is_reported_with_its_policy() -> None:
    # Given every call the history function makes but its flows-table read
    calls = [
        Access("HistoryFunction", "dynamodb:UpdateItem", iam.table_arn("RateLimitTable")),
        Access("HistoryFunction", "dynamodb:Query", iam.table_arn("ChangesTable")),
        Access("HistoryFunction", "dynamodb:Query", f"{iam.table_arn('ChangesTable')}/index/ByTenantTime"),
    ]

    # Then that grant is the history function's only unused one
    unused = [grant for grant in least_privilege.unused(calls) if grant.function == "HistoryFunction"]
    assert [(grant.action, grant.resource) for grant in unused] == [("dynamodb:GetItem", FLOWS)]


def test_every_dynamodb_grant_names_its_actions_and_tables() -> None:
    # A wildcard grant would pass the call check and count as used by any call: none is allowed.
    for function in template.resources("AWS::Serverless::Function"):
        for action, resource, policy in iam.dynamodb_grants(function):
            assert not set(action) & set("*?"), (function, action, policy)
            assert resource.startswith(f"arn:aws:dynamodb:{iam.REGION}:{iam.ACCOUNT}:table/{iam.STACK}-"), resource
            bare = resource.removesuffix("/index/*")
            assert not set(bare) & set("*?"), (function, resource, policy)


def test_a_wildcard_grant_is_seen_as_a_dynamodb_grant(edited_template: dict[str, Any]) -> None:
    statements = edited_template["Resources"]["HistoryFunction"]["Properties"]["Policies"][1]["Statement"]
    statements.append({"Effect": "Allow", "Action": ["*", "DynamoDB:Delete*", "s3:GetObject"], "Resource": "*"})
    iam.deployed.cache_clear()
    wide = [(action, resource) for action, resource, _ in iam.dynamodb_grants("HistoryFunction") if resource == "*"]
    assert wide == [("*", "*"), ("DynamoDB:Delete*", "*")]


def test_a_policy_naming_a_table_by_its_local_name_is_denied_as_on_aws(edited_template: dict[str, Any]) -> None:
    # Given the history function's flows-table grant written as an ARN with the table's logical id
    statement = edited_template["Resources"]["HistoryFunction"]["Properties"]["Policies"][1]["Statement"][1]
    statement["Resource"] = "arn:aws:dynamodb:us-east-1:123456789012:table/FlowsTable"
    iam.deployed.cache_clear()

    # Then its calls are denied: a deployed table has the stack's name in its own, in the stack's region
    assert least_privilege.denied([Access("HistoryFunction", "dynamodb:GetItem", FLOWS)]) != []


def test_iam_wildcards_and_an_explicit_deny_are_read_as_aws_reads_them() -> None:
    allow = iam.Statement("Allow", ("dynamodb:Get*",), (f"{FLOWS}/index/*",), "test")
    deny = iam.Statement("Deny", ("dynamodb:*",), (f"{FLOWS}/index/Secret",), "test")
    assert iam.allows([allow], "dynamodb:GetItem", f"{FLOWS}/index/ByStatus")
    assert not iam.allows([allow], "dynamodb:GetItem", FLOWS)  # the table is not its indexes
    assert not iam.allows([allow], "dynamodb:PutItem", f"{FLOWS}/index/ByStatus")
    assert not iam.allows([allow, deny], "dynamodb:GetItem", f"{FLOWS}/index/Secret")


def test_a_statement_with_a_condition_is_refused_rather_than_misread(edited_template: dict[str, Any]) -> None:
    policies = edited_template["Resources"]["HistoryFunction"]["Properties"]["Policies"]
    policies[1]["Statement"][0]["Condition"] = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["x"]}}
    iam.deployed.cache_clear()
    with pytest.raises(NotImplementedError, match="Condition"):
        iam.role_statements("HistoryFunction")


def test_each_item_of_a_transaction_is_authorised_as_its_own_action() -> None:
    params = {
        "TransactItems": [
            {"Put": {"TableName": "FlowsTable", "Item": {}}},
            {"Update": {"TableName": "FlowsTable", "Key": {}}},
            {"Delete": {"TableName": "LiveTable", "Key": {}}},
            {"ConditionCheck": {"TableName": "FlowsTable", "Key": {}}},
        ]
    }
    assert list(authorised_as("TransactWriteItems", params)) == [
        ("dynamodb:PutItem", FLOWS),
        ("dynamodb:UpdateItem", FLOWS),
        ("dynamodb:DeleteItem", iam.table_arn("LiveTable")),
        ("dynamodb:ConditionCheckItem", FLOWS),
    ]
    query = {"TableName": "FlowsTable", "IndexName": "ByStatus"}
    assert list(authorised_as("Query", query)) == [("dynamodb:Query", f"{FLOWS}/index/ByStatus")]
    batch: dict[str, Any] = {"RequestItems": {"FlowsTable": {}, "ChangesTable": {}}}
    assert [arn for _, arn in authorised_as("BatchGetItem", batch)] == [FLOWS, iam.table_arn("ChangesTable")]


class TestWhatNoDynamoDBCallShows:
    def test_every_stream_mapping_can_read_its_stream_and_send_to_its_failure_queue(self) -> None:
        mappings = iam.resources_of("AWS::Lambda::EventSourceMapping")
        assert mappings, "the template has a stream consumer"
        for mapping in mappings.values():
            properties = mapping["Properties"]
            function = properties["FunctionName"]["Ref"]
            statements = iam.role_statements(function)
            stream = iam.resolve(properties["EventSourceArn"])
            # What Lambda's poller calls on the function's behalf, with the function's role.
            for action in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"):
                assert iam.allows(statements, f"dynamodb:{action}", stream), (function, action)
            queue = iam.resolve(properties["DestinationConfig"]["OnFailure"]["Destination"])
            assert iam.allows(statements, "sqs:SendMessage", queue), function

    def test_api_gateway_may_invoke_the_authorizer_and_every_routes_function(self) -> None:
        permissions = [p["Properties"] for p in iam.resources_of("AWS::Lambda::Permission").values()]

        def invokable(function: str, source: str) -> bool:
            return any(
                permission["Action"] == "lambda:InvokeFunction"
                and permission["Principal"] == "apigateway.amazonaws.com"
                and iam.resolve(permission["FunctionName"])
                in (iam.resolve({"Ref": function}), iam.resolve({"Fn::GetAtt": [function, "Arn"]}))
                and iam.Statement("Allow", ("*",), (iam.resolve(permission["SourceArn"]),), "").matches("*", source)
                for permission in permissions
            )

        api_arn = f"arn:aws:execute-api:{iam.REGION}:{iam.ACCOUNT}:{iam.resolve({'Ref': 'DecisionFlowsApi'})}"
        for name in ("CredentialAuthorizer",):
            authorizer = template.authorizer(name)
            assert invokable(authorizer.function, f"{api_arn}/authorizers/abc123"), name
        for route in template.routes():
            assert invokable(route.function, f"{api_arn}/$default/{route.method}{route.path}"), route

    def test_every_function_may_write_its_logs(self) -> None:
        for function, body in iam.resources_of("AWS::Lambda::Function").items():
            group = iam.log_group_name(body["Properties"]["LoggingConfig"]["LogGroup"]["Ref"])
            stream = f"arn:aws:logs:{iam.REGION}:{iam.ACCOUNT}:log-group:{group}:log-stream:2026/12/06/[$LATEST]0a1b"
            statements = iam.role_statements(function)
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                assert iam.allows(statements, action, stream), (function, action)

    def test_the_stream_consumer_reads_its_own_stream_and_no_other(self) -> None:
        # Given the consumer's role and another table's stream in the same account
        statements = iam.role_statements("StreamFunction")
        (own,) = iam.mapped_streams("StreamFunction")
        other = f"{iam.table_arn('ChangesTable')}/stream/{iam.STREAM_LABEL}"

        # Then Lambda's poller may read the flows table's stream with it, and only that one
        for action in iam.STREAM_READS:
            assert iam.allows(statements, action, own), action
            assert not iam.allows(statements, action, other), action
        # and no code path is expected to use those reads itself (the unused-grant check skips them)
        assert [g for g in least_privilege.unused([]) if g.action in iam.STREAM_READS] == []
        # nor may it write another function's logs
        foreign = f"arn:aws:logs:{iam.REGION}:{iam.ACCOUNT}:log-group:/aws/lambda/{iam.STACK}/LiveFunction:log-stream:x"
        assert not iam.allows(statements, "logs:PutLogEvents", foreign)
