"""HTTP requests into models: media type, size, JSON, strict fields, If-Match, and the caller's identity."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from decision_flows.domain.errors import Forbidden, InvalidRequest, PayloadTooLarge, StoreUnavailable, Unauthenticated
from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
from decision_flows.models.flow import FlowStatus
from decision_flows.models.identity import Identity, Role
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.web import auth_refusals, identity, inputs
from decision_flows.web.inputs import MAX_BODY_BYTES
from decision_flows.web.problems import UnsupportedMediaType
from decision_flows_local.api.gateway import Caller, build_event

TENANT = "tenant-a"
CREATE = {"key": "checkout.offers", "name": "Checkout offers"}


def event(
    *,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    caller: Caller | None = None,
    base64_encoded: bool = False,
) -> APIGatewayProxyEventV2:
    data = build_event(
        "POST", "/api/v1/decision-flows", caller=caller or Caller(TENANT, "editor"), raw_body=raw_body, headers=headers
    )
    data["isBase64Encoded"] = base64_encoded
    return APIGatewayProxyEventV2(data)


def json_event(body: Any, **kwargs: Any) -> APIGatewayProxyEventV2:
    return event(raw_body=json.dumps(body), **kwargs)


def invalid(call_event: APIGatewayProxyEventV2, model: type[Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        inputs.body(call_event, model)
    return caught.value


# --- media type --------------------------------------------------------------------------------


def test_missing_content_type_is_415() -> None:
    # Given a JSON body sent without a Content-Type
    data = build_event("POST", "/api/v1/decision-flows", caller=Caller(TENANT, "editor"), raw_body=json.dumps(CREATE))
    del data["headers"]["content-type"]
    # When parsed / Then it is refused as an unsupported media type
    with pytest.raises(UnsupportedMediaType) as caught:
        inputs.body(APIGatewayProxyEventV2(data), CreateFlowRequest)
    assert caught.value.code == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json-patch+json", "application/jsonx", ""],
)
def test_other_content_type_is_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        inputs.body(json_event(CREATE, headers={"Content-Type": content_type}), CreateFlowRequest)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ;charset=UTF-8"],
)
def test_json_content_type_is_accepted(content_type: str) -> None:
    parsed = inputs.body(json_event(CREATE, headers={"Content-Type": content_type}), CreateFlowRequest)
    assert (parsed.key, parsed.name) == (CREATE["key"], CREATE["name"])


def test_media_type_is_checked_before_the_body_is_read() -> None:
    # A non-JSON media type with a malformed body is a 415, not a 400
    with pytest.raises(UnsupportedMediaType):
        inputs.body(event(raw_body="{nope", headers={"Content-Type": "text/plain"}), CreateFlowRequest)


# --- body bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{bad", "", "{'key': 'k'}", '{"key": "k",}', "nul"])
def test_malformed_json_is_400(raw: str) -> None:
    assert invalid(event(raw_body=raw), CreateFlowRequest).code == "MALFORMED_JSON"


@pytest.mark.parametrize("raw", ["!!!not base64!!!", "eyJ", "eyJr=", "é"])
def test_invalid_base64_body_is_400(raw: str) -> None:
    assert invalid(event(raw_body=raw, base64_encoded=True), CreateFlowRequest).code == "MALFORMED_BODY"


def test_base64_body_is_decoded() -> None:
    encoded = base64.b64encode(json.dumps(CREATE).encode()).decode()
    assert inputs.body(event(raw_body=encoded, base64_encoded=True), CreateFlowRequest).key == CREATE["key"]


def sized_body(size: int) -> str:
    """A create body of exactly ``size`` bytes (the description is padded)."""
    body = {**CREATE, "description": ""}
    overhead = len(json.dumps(body).encode())
    body["description"] = "x" * (size - overhead)
    text = json.dumps(body)
    assert len(text.encode()) == size
    return text


def test_body_over_the_limit_is_413() -> None:
    # Given a body one byte over the limit / When parsed / Then 413 before any JSON parsing
    with pytest.raises(PayloadTooLarge) as caught:
        inputs.body(event(raw_body=sized_body(MAX_BODY_BYTES + 1)), CreateFlowRequest)
    assert caught.value.code == "BODY_TOO_LARGE"


def test_body_at_the_limit_is_read() -> None:
    # At exactly the limit the size check passes; the (too long) description is a validation problem instead
    error = invalid(event(raw_body=sized_body(MAX_BODY_BYTES)), CreateFlowRequest)
    assert error.code == "VALIDATION_ERROR"
    assert [problem.field for problem in error.errors] == ["description"]


def test_body_size_counts_bytes_not_characters() -> None:
    # Given a body of multi-byte characters that is under the limit in characters but over it in bytes
    raw = json.dumps({**CREATE, "description": "é" * (MAX_BODY_BYTES // 2)}, ensure_ascii=False)
    assert len(raw) < MAX_BODY_BYTES < len(raw.encode())
    with pytest.raises(PayloadTooLarge):
        inputs.body(event(raw_body=raw), CreateFlowRequest)


def test_base64_body_is_measured_after_decoding() -> None:
    raw = sized_body(MAX_BODY_BYTES + 1)
    with pytest.raises(PayloadTooLarge):
        inputs.body(event(raw_body=base64.b64encode(raw.encode()).decode(), base64_encoded=True), CreateFlowRequest)


# --- strict fields -----------------------------------------------------------------------------


def test_unknown_field_is_a_validation_error() -> None:
    error = invalid(json_event({**CREATE, "colour": "blue"}), CreateFlowRequest)
    assert error.code == "VALIDATION_ERROR"
    assert [problem.field for problem in error.errors] == ["colour"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("tenantId", "tenant-b"), ("liveVersion", 1), ("rowVersion", 1), ("id", "df_mine"), ("latestVersion", 2)],
)
def test_server_owned_field_on_create_is_a_validation_error(field: str, value: Any) -> None:
    # Given a create body that tries to set a field the server owns
    error = invalid(json_event({**CREATE, field: value}), CreateFlowRequest)
    # Then it is refused, naming the field
    assert error.code == "VALIDATION_ERROR"
    assert [problem.field for problem in error.errors] == [field]


def test_every_server_owned_field_is_listed() -> None:
    error = invalid(json_event({**CREATE, "tenantId": "t", "liveVersion": 1, "rowVersion": 1}), CreateFlowRequest)
    assert {problem.field for problem in error.errors} == {"tenantId", "liveVersion", "rowVersion"}


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        pytest.param(CreateFlowRequest, {**CREATE, "auto_assembly": False}, "auto_assembly", id="create-auto_assembly"),
        pytest.param(UpdateFlowRequest, {"id": "df_1", "row_version": 3}, "row_version", id="update-row_version"),
        pytest.param(UpdateFlowRequest, {"id": "df_1", "draft_config": {}}, "draft_config", id="update-draft_config"),
        pytest.param(RollbackRequest, {"id": "df_1", "version": 1, "row_version": 3}, "row_version", id="rollback"),
    ],
)
def test_snake_case_field_name_is_refused(model: type[Any], body: dict[str, Any], field: str) -> None:
    # Given a body that spells a real field in snake_case instead of the contract's camelCase
    error = invalid(json_event(body), model)
    # Then it is refused like any unknown field, not silently dropped
    assert [problem.field for problem in error.errors] == [field]


def test_body_that_is_not_an_object_is_a_validation_error() -> None:
    assert invalid(json_event([CREATE]), CreateFlowRequest).code == "VALIDATION_ERROR"


@pytest.mark.parametrize("version", ["3", 3.0, True, None])
def test_rollback_version_must_be_a_json_integer(version: Any) -> None:
    # Given a rollback naming the version as something other than an integer
    error = invalid(json_event({"id": "df_1", "version": version}), RollbackRequest)
    # Then strict parsing refuses it on `version`
    assert error.code == "VALIDATION_ERROR"
    assert [problem.field for problem in error.errors] == ["version"]


@pytest.mark.parametrize("version", [0, -1])
def test_rollback_to_a_non_positive_version_parses_and_is_left_to_the_404(version: int) -> None:
    assert inputs.body(json_event({"id": "df_1", "version": version}), RollbackRequest).version == version


def test_rollback_body_parses() -> None:
    parsed = inputs.body(json_event({"id": "df_1", "version": 3, "rowVersion": 7}), RollbackRequest)
    assert (parsed.id, parsed.version, parsed.row_version, parsed.notes) == ("df_1", 3, 7, None)


def test_auto_assembly_must_be_a_json_boolean() -> None:
    error = invalid(json_event({**CREATE, "autoAssembly": "true"}), CreateFlowRequest)
    assert [problem.field for problem in error.errors] == ["autoAssembly"]


def test_status_parses_as_enum_on_update() -> None:
    parsed = inputs.body(json_event({"id": "df_1", "status": "active"}), UpdateFlowRequest)
    assert parsed.status is FlowStatus.ACTIVE


def test_status_parses_as_enum_on_create() -> None:
    parsed = inputs.body(json_event({**CREATE, "status": "paused"}), CreateFlowRequest)
    assert parsed.status is FlowStatus.PAUSED


def test_status_defaults_to_draft_on_create() -> None:
    assert inputs.body(json_event(CREATE), CreateFlowRequest).status is FlowStatus.DRAFT


@pytest.mark.parametrize("status", ["ACTIVE", "deleted", 1])
def test_unknown_status_is_a_validation_error(status: Any) -> None:
    error = invalid(json_event({"id": "df_1", "status": status}), UpdateFlowRequest)
    assert [problem.field for problem in error.errors] == ["status"]


def test_publish_has_no_status_field() -> None:
    # The contract's publish body is {id, notes?, rowVersion?, expectedCurrentVersion?}: publish sets `active` itself
    error = invalid(json_event({"id": "df_1", "status": "active"}), PublishRequest)
    assert [problem.field for problem in error.errors] == ["status"]


def test_publish_body_parses() -> None:
    body = {"id": "df_1", "notes": "v2", "rowVersion": 4, "expectedCurrentVersion": 1}
    parsed = inputs.body(json_event(body), PublishRequest)
    assert (parsed.notes, parsed.row_version, parsed.expected_current_version) == ("v2", 4, 1)


# --- If-Match ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [('"3"', 3), ('"12"', 12), (' "3" ', 3), ("*", None)],
)
def test_if_match_names_a_row_version(header: str, expected: int | None) -> None:
    assert inputs.if_match(event(headers={"If-Match": header})) == expected


def test_absent_if_match_is_none() -> None:
    assert inputs.if_match(event()) is None


@pytest.mark.parametrize(
    "header",
    [
        '"abc"',
        '"0"',
        '"-1"',
        '"+3"',
        '"3.0"',
        'W/"x"',
        '"3", "4"',
        '""',
        '"',
        '"3',
        '3"',
        pytest.param('W/"3"', id="weak-tag: If-Match compares strongly (RFC 9110 13.1.1)"),
        pytest.param("3", id="unquoted: no entity-tag (RFC 9110 8.8.3)"),
    ],
)
def test_invalid_if_match_is_400(header: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        inputs.if_match(event(headers={"If-Match": header}))
    assert caught.value.code == "INVALID_IF_MATCH"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param('"\u00b2"', id="superscript-two"),
        pytest.param('"' + "9" * 5000 + '"', id="5000-digits"),
    ],
)
def test_if_match_that_int_cannot_parse_is_400(header: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        inputs.if_match(event(headers={"If-Match": header}))
    assert caught.value.code == "INVALID_IF_MATCH"


# --- identity ----------------------------------------------------------------------------------


def auth_event(
    role: str = "editor", *, tenant_header: str | None = TENANT, context: dict[str, Any] | None = None
) -> APIGatewayProxyEventV2:
    data = build_event("GET", "/api/v1/decision-flows", caller=Caller(TENANT, role, "ed@a.example"))
    if context is not None:
        data["requestContext"]["authorizer"] = {"lambda": context}
    if tenant_header is None:
        del data["headers"]["x-tenant-id"]
    else:
        data["headers"]["x-tenant-id"] = tenant_header
    return APIGatewayProxyEventV2(data)


def test_identify_returns_the_identity() -> None:
    assert identity.identify(auth_event("editor")) == Identity(
        tenant_id=TENANT, role=Role.EDITOR, principal="ed@a.example"
    )


@pytest.mark.parametrize(
    "request_context_authorizer",
    [pytest.param(None, id="no-authorizer"), pytest.param({"lambda": None}, id="null-lambda"), {"lambda": {}}],
)
def test_missing_authorizer_context_is_401(request_context_authorizer: Any) -> None:
    # Given a request that reached the handler without an authorizer context
    data = build_event("GET", "/api/v1/decision-flows", caller=Caller(TENANT, "admin"))
    if request_context_authorizer is None:
        del data["requestContext"]["authorizer"]
    else:
        data["requestContext"]["authorizer"] = request_context_authorizer
    # When identified / Then it is unauthenticated, even though X-Tenant-Id is present
    with pytest.raises(Unauthenticated) as caught:
        identity.identify(APIGatewayProxyEventV2(data))
    assert caught.value.code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("decided_at", "retry_after"),
    [
        pytest.param(1_000, 60, id="just-decided"),
        pytest.param(1_000 - 59, 1, id="expiring"),
        pytest.param(1_000 - 600, 1, id="older-than-the-cache"),
        pytest.param(1_000 + 30, 60, id="from-a-clock-ahead"),
        pytest.param("garbage", 60, id="unreadable"),
        pytest.param(None, 60, id="missing"),
    ],
)
def test_a_store_busy_decision_is_503_until_the_gateway_asks_again(
    decided_at: Any, retry_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the authorizer's cached "store busy" decision, read by a handler at t=1000
    monkeypatch.setattr(auth_refusals, "clock", lambda: 1_000.0)
    context = {"authError": "STORE_BUSY"} | ({} if decided_at is None else {"decidedAt": decided_at})
    # When identified / Then 503 STORE_BUSY, retryable when the 60 s cache lets the authorizer run again
    with pytest.raises(StoreUnavailable) as caught:
        identity.identify(auth_event(context=context))
    assert (caught.value.code, caught.value.retry_after_seconds) == ("STORE_BUSY", retry_after)


@pytest.mark.parametrize("role", ["owner", "", "superadmin", "parse", None, 3])
def test_unknown_role_is_401(role: Any) -> None:
    context = {"tenantId": TENANT, "role": role, "principal": "p"}
    with pytest.raises(Unauthenticated):
        identity.identify(auth_event(context=context))


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"role": "admin", "principal": "p"}, id="no-tenant"),
        pytest.param({"tenantId": TENANT, "role": "admin"}, id="no-principal"),
        pytest.param({"tenantId": "tenant#a", "role": "admin", "principal": "p"}, id="tenant-with-key-separator"),
    ],
)
def test_incomplete_identity_is_401(context: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        identity.identify(auth_event(context=context))


@pytest.mark.parametrize("role", ["ADMIN", "Admin", "adm\u0131n"])
def test_role_names_match_exactly(role: str) -> None:
    with pytest.raises(Unauthenticated):
        identity.identify(auth_event(role))


@pytest.mark.parametrize("header", [None, ""])
def test_missing_tenant_header_is_400(header: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        identity.identify(auth_event(tenant_header=header))
    assert caught.value.code == "TENANT_HEADER_MISSING"


@pytest.mark.parametrize("header", ["tenant-b", "TENANT-A"])
def test_header_naming_another_tenant_is_403(header: str) -> None:
    # Given a credential of tenant-a and a header naming another tenant
    with pytest.raises(Forbidden) as caught:
        identity.identify(auth_event("admin", tenant_header=header))
    # Then 403, even for an admin
    assert caught.value.code == "TENANT_MISMATCH"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("minimum", list(Role))
def test_role_at_or_above_the_minimum_passes(role: Role, minimum: Role) -> None:
    # Given a credential of `role` on a route whose minimum is `minimum`
    call = auth_event(role.name.lower())
    caller = identity.identify(call)
    assert caller.role is role
    if role >= minimum:
        # Then it passes
        identity.require_role(caller, minimum)
    else:
        # Otherwise it is forbidden, naming both roles
        with pytest.raises(Forbidden) as caught:
            identity.require_role(caller, minimum)
        assert caught.value.code == "INSUFFICIENT_ROLE"
        assert minimum.name.lower() in caught.value.detail
        assert role.name.lower() in caught.value.detail


def test_roles_are_ordered() -> None:
    assert Role.VIEWER < Role.EDITOR < Role.ADMIN
