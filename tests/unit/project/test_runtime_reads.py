"""The runtime reads' protection from floods, as template.yaml deploys it (docs/OPERATIONS.md,
"Floods and the runtime reads").

API Gateway's throttling and Lambda's concurrency are emulated neither by moto nor by `make serve`:
what can be held here is the template's shape and its arithmetic, read after SAM's transform.
"""

from __future__ import annotations

from typing import Any

from decision_flows_local import template
from tests.support import iam

READS = "LiveFunction"
# API Gateway's default steady rate for all the HTTP APIs of an account, per Region (its quotas page).
ACCOUNT_RATE_PER_REGION = 10_000
# How long one warm run keeps an execution busy, at most (docs/OPERATIONS.md): a runtime read (one or two
# GetItems and the code) and an authorization (≈2 ms of code, at most one GetItem of a small item).
WARM_READ_SECONDS = 0.025
WARM_AUTHORIZATION_SECONDS = 0.010


def stage() -> dict[str, Any]:
    (api_stage,) = iam.resources_of("AWS::ApiGatewayV2::Stage").values()
    properties: dict[str, Any] = api_stage["Properties"]
    return properties


def by_default(value: Any) -> Any:
    """A property as the default parameters deploy it."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template.template()["Parameters"][value["Ref"]]["Default"]
    return value


def route_keys() -> dict[str, str]:
    """Every route's key (as RouteSettings names it) → its function; $default is the route no other takes."""
    return {
        f"{route.method} {route.path}" if route.path != "$default" else "$default": route.function
        for route in template.routes()
    }


def rate_of(route_key: str) -> float:
    settings = stage().get("RouteSettings", {}).get(route_key, stage()["DefaultRouteSettings"])
    return float(by_default(settings["ThrottlingRateLimit"]))


def read_routes() -> list[str]:
    return [key for key, function in route_keys().items() if function == READS]


def test_every_runtime_read_route_has_the_read_paths_own_throttle() -> None:
    # Given the routes of the function that serves the runtime reads
    reads = read_routes()
    assert reads, f"{READS} serves no route"
    # Then each has a bucket sized by the read path's parameters, and no other route has one of its own
    overrides = stage().get("RouteSettings", {})
    assert sorted(overrides) == sorted(reads), "RouteSettings must name exactly the runtime read routes"
    for key in reads:
        assert overrides[key] == {
            "ThrottlingRateLimit": {"Ref": "RuntimeReadRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "RuntimeReadBurstLimit"},
        }, key
    # And the reads are admitted far more than a management route, whose flood stops at its own bucket
    assert rate_of(reads[0]) >= 10 * float(stage()["DefaultRouteSettings"]["ThrottlingRateLimit"])


def test_every_route_at_its_limit_stays_under_the_accounts_regional_rate() -> None:
    # Given every route of the API flooded up to its own throttle
    total = sum(rate_of(key) for key in route_keys())
    print(f"all routes at their limits: {total:.0f} requests/s of the account's {ACCOUNT_RATE_PER_REGION}")
    # Then the account-level throttle (shared by every API of the account) is not reached through this API alone
    assert total <= ACCOUNT_RATE_PER_REGION


def test_the_runtime_reads_have_a_reservation_of_their_own_that_carries_their_rate() -> None:
    functions = iam.resources_of("AWS::Lambda::Function")
    condition, reserving, _ = functions[READS]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    # A reservation of its own, not the management functions' common cap
    assert (condition, reserving) == ("ReservingConcurrency", {"Ref": "LiveFunctionConcurrency"})
    management = by_default(functions["PublishFunction"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"][1])
    reserved = by_default(reserving)
    assert reserved > management
    # Enough executions for every read route at its rate, warm
    needed = sum(rate_of(key) for key in read_routes()) * WARM_READ_SECONDS
    assert needed <= reserved, (needed, reserved)


def test_the_authorizer_keeps_up_with_every_route_at_its_limit_uncached() -> None:
    # Given a flood of distinct credentials (none cached) on every route at its limit, each decision
    # one warm authorizer run: its code and at most one GetItem of the keys table
    functions = iam.resources_of("AWS::Lambda::Function")
    _, reserving, _ = functions["AuthorizerFunction"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    needed = sum(rate_of(key) for key in route_keys() if key != "GET /api/v1/health") * WARM_AUTHORIZATION_SECONDS
    # Then its reservation carries them (beyond it, the gateway answers uncached requests with 500)
    assert needed <= by_default(reserving), (needed, by_default(reserving))
