"""The suite's DynamoDB calls against the functions' policies: what was denied, and what no call used.

A call that a function's role does not allow would be AccessDenied on AWS (and the route a 5xx);
a grant that no tested path uses is either untested or more than the function needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from decision_flows_local import template
from tests.support import iam
from tests.support.dynamodb_calls import Access


@dataclass(frozen=True)
class Grant:
    function: str
    action: str
    resource: str
    policy: str

    def covers(self, access: Access) -> bool:
        statement = iam.Statement("Allow", (self.action,), (self.resource,), self.policy)
        return access.function == self.function and statement.matches(access.action, access.resource)


def denied(accesses: Iterable[Access]) -> list[Access]:
    return [
        access
        for access in sorted(set(accesses))
        if not iam.allows(iam.role_statements(access.function), access.action, access.resource, access.context)
    ]


def unused(accesses: Iterable[Access]) -> list[Grant]:
    seen = set(accesses)
    grants = [
        Grant(function, *grant)
        for function in template.resources("AWS::Serverless::Function")
        for grant in iam.dynamodb_grants(function)
    ]
    return [grant for grant in grants if not any(grant.covers(access) for access in seen)]


def report(accesses: set[Access], denials: list[Access], unused_grants: list[Grant] | None) -> list[str]:
    functions = len({access.function for access in accesses})
    lines = [
        f"{len(accesses)} distinct DynamoDB and Scheduler accesses of {functions} functions held against their roles"
    ]
    lines += [
        f"DENIED on AWS: {a.function} {a.action} on {a.resource} (no policy of its role allows it)" for a in denials
    ]
    if unused_grants is None:
        lines.append("unused grants: checked only when the whole integration, local and reliability suites run")
    else:
        lines += [
            f"UNUSED grant: {g.function} {g.action} on {g.resource} ({g.policy}): no tested path used it"
            for g in unused_grants
        ]
    return lines
