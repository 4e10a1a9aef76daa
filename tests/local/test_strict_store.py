"""The embedded store refuses what DynamoDB refuses where moto does not (decision_flows_local/dynamodb/strict_dynamodb).

Each test goes through boto3 to the store every test runs on, and cites the AWS documentation of
the rule it holds the store to.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from decision_flows_local.dynamodb import strict_dynamodb
from decision_flows_local.dynamodb.embedded import embedded_table
from decision_flows_local.fixtures.samples import v2_config

FLOWS = os.environ["TABLE_NAME"]
PARTITION_KEY_LIMIT, SORT_KEY_LIMIT = 2048, 1024
KB = 1024


def key(pk: str, sk: str = "A") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def put(pk: str, value: str) -> dict[str, Any]:
    return {"Put": {"TableName": FLOWS, "Item": {**key(pk), "value": {"S": value}}}}


def stored_value(dynamodb: Any, pk: str) -> str | None:
    item = dynamodb.get_item(TableName=FLOWS, Key=key(pk), ConsistentRead=True).get("Item")
    return item["value"]["S"] if item else None


def stream_length() -> int:
    return len(embedded_table(FLOWS).stream_shard.items)


def refusal(call: Any, **params: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as refused:
        call(**params)
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


class TestClientRequestToken:
    """https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
    (ClientRequestToken) and https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
    (Idempotency): "A client token is valid for 10 minutes after the first request that uses it is
    completed"; the same token with the same parameters "returns successfully without making any
    changes"; with "a change in other parameters within the 10-minute idempotency window, DynamoDB
    returns an IdempotentParameterMismatch exception"."""

    def test_the_same_token_and_items_succeed_again_without_writing(self, dynamodb: Any) -> None:
        # Given a transaction that landed, and a later write over its item
        token = str(uuid.uuid4())
        dynamodb.transact_write_items(TransactItems=[put("a", "first"), put("b", "first")], ClientRequestToken=token)
        dynamodb.put_item(TableName=FLOWS, Item={**key("a"), "value": {"S": "later"}})
        records = stream_length()

        # When the same transaction is sent again with its token (as the SDK resends it)
        dynamodb.transact_write_items(TransactItems=[put("a", "first"), put("b", "first")], ClientRequestToken=token)

        # Then it succeeds and writes nothing: the later write stays, no stream record is added
        assert stored_value(dynamodb, "a") == "later"
        assert stream_length() == records

    def test_the_same_token_with_other_items_is_a_400_mismatch_that_writes_nothing(self, dynamodb: Any) -> None:
        # Given a transaction that landed under a token
        token = str(uuid.uuid4())
        dynamodb.transact_write_items(TransactItems=[put("a", "first"), put("b", "first")], ClientRequestToken=token)
        records = stream_length()

        # When another transaction comes with the same token
        status, code, _ = refusal(
            dynamodb.transact_write_items,
            TransactItems=[put("a", "second"), put("c", "second")],
            ClientRequestToken=token,
        )

        # Then DynamoDB's 400 refuses it, and nothing of it landed
        assert (status, code) == (400, "IdempotentParameterMismatchException")
        assert (stored_value(dynamodb, "a"), stored_value(dynamodb, "c")) == ("first", None)
        assert stream_length() == records

    def test_after_ten_minutes_a_token_is_new_again(self, dynamodb: Any) -> None:
        # Given a token used 10 minutes ago
        token = str(uuid.uuid4())
        dynamodb.transact_write_items(TransactItems=[put("a", "first"), put("b", "first")], ClientRequestToken=token)
        ledger = strict_dynamodb.token_ledger(_backend())
        used_at = ledger.clock()
        ledger.clock = lambda: used_at + strict_dynamodb.TOKEN_WINDOW_SECONDS + 1

        # When other items come with it
        dynamodb.transact_write_items(TransactItems=[put("a", "second"), put("c", "second")], ClientRequestToken=token)

        # Then they are a new request, and land
        assert (stored_value(dynamodb, "a"), stored_value(dynamodb, "c")) == ("second", "second")

    def test_a_cancelled_transaction_can_be_sent_again_with_its_token_and_land(self, dynamodb: Any) -> None:
        """An assumption, not a documented rule: AWS documents a token's replay only after a success.
        The service does not rely on it (writes.execute draws a new token after a cancellation)."""
        # Given a transaction cancelled on a condition, under a token
        token = str(uuid.uuid4())
        dynamodb.put_item(TableName=FLOWS, Item={**key("guard"), "value": {"S": "x"}})
        steps = [
            put("a", "first"),
            {
                "ConditionCheck": {
                    "TableName": FLOWS,
                    "Key": key("guard"),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        assert refusal(dynamodb.transact_write_items, TransactItems=steps, ClientRequestToken=token)[1] == (
            "TransactionCanceledException"
        )

        # When the condition holds and the same request is sent again (a retry of a conflict)
        dynamodb.delete_item(TableName=FLOWS, Key=key("guard"))
        dynamodb.transact_write_items(TransactItems=steps, ClientRequestToken=token)

        # Then it ran: nothing had landed under the token before
        assert stored_value(dynamodb, "a") == "first"

    def test_the_same_token_while_its_first_request_runs_is_transaction_in_progress(self) -> None:
        # Given a ledger running a request under a token
        ledger = strict_dynamodb.TokenLedger()
        params = {"TransactItems": [put("a", "first")]}

        def resend_while_running() -> None:
            # When the same request comes again before the first has completed
            ledger.run("t", params, lambda: None, replay=None)

        # Then the second is refused as DynamoDB refuses it
        with pytest.raises(Exception, match="in progress") as refused:
            ledger.run("t", params, resend_while_running, replay=None)
        assert "TransactionInProgressException" in refused.value.error_type  # type: ignore[attr-defined]


def _backend() -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]


LONG_PK, LONG_SK = "p" * (PARTITION_KEY_LIMIT + 1), "s" * (SORT_KEY_LIMIT + 1)
UPDATE = {"UpdateExpression": "SET #v = :v", "ExpressionAttributeNames": {"#v": "value"}}


def _key_size_calls(pk: str, sk: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """One call of each operation that names the key (``pk``, ``sk``)."""
    value = {":v": {"S": "x"}}
    return {
        "GetItem": ("get_item", {"TableName": FLOWS, "Key": key(pk, sk)}),
        "BatchGetItem": ("batch_get_item", {"RequestItems": {FLOWS: {"Keys": [key(pk, sk)]}}}),
        "Query partition key": (
            "query",
            {
                "TableName": FLOWS,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
            },
        ),
        "Query sort key": (
            "query",
            {
                "TableName": FLOWS,
                "KeyConditionExpression": "PK = :pk AND SK = :sk",
                "ExpressionAttributeValues": {":pk": {"S": "p"}, ":sk": {"S": sk}},
            },
        ),
        "Query ExclusiveStartKey": (
            "query",
            {
                "TableName": FLOWS,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ExclusiveStartKey": key(pk, sk),
            },
        ),
        "PutItem": ("put_item", {"TableName": FLOWS, "Item": key(pk, sk)}),
        "UpdateItem": (
            "update_item",
            {"TableName": FLOWS, "Key": key(pk, sk), **UPDATE, "ExpressionAttributeValues": value},
        ),
        "DeleteItem": ("delete_item", {"TableName": FLOWS, "Key": key(pk, sk)}),
        "TransactWriteItems": (
            "transact_write_items",
            {
                "TransactItems": [
                    {"Put": {"TableName": FLOWS, "Item": key("other")}},
                    {"Update": {"TableName": FLOWS, "Key": key(pk, sk), **UPDATE, "ExpressionAttributeValues": value}},
                ]
            },
        ),
    }


class TestKeySizes:
    """https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys:
    "The maximum length of a partition key value is 2048 bytes", "The maximum length of a sort key
    value is 1024 bytes"; DynamoDB refuses a longer key in any request that names it, reads included,
    with a ValidationException (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html)."""

    @pytest.mark.parametrize(
        ("operation", "too_long"),
        [
            (operation, too_long)
            for operation in _key_size_calls("p", "s")
            for too_long in ("partition key", "sort key")
            # each of these queries names one key only
            if (operation, too_long) not in {("Query partition key", "sort key"), ("Query sort key", "partition key")}
        ],
    )
    def test_a_key_over_its_limit_is_a_validation_exception(self, dynamodb: Any, operation: str, too_long: str) -> None:
        pk, sk, message = (
            (LONG_PK, "s", "Size of hashkey has exceeded the maximum size limit of2048 bytes")
            if too_long == "partition key"
            else ("p", LONG_SK, "Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
        )
        method, params = _key_size_calls(pk, sk)[operation]
        status, code, text = refusal(getattr(dynamodb, method), **params)
        assert (status, code) == (400, "ValidationException")
        assert text == f"One or more parameter values were invalid: {message}"

    @pytest.mark.parametrize("operation", list(_key_size_calls("p", "s")))
    def test_keys_at_their_limits_are_accepted(self, dynamodb: Any, operation: str) -> None:
        method, params = _key_size_calls("p" * PARTITION_KEY_LIMIT, "s" * SORT_KEY_LIMIT)[operation]
        if operation == "Query ExclusiveStartKey":
            dynamodb.put_item(TableName=FLOWS, Item=params["ExclusiveStartKey"])
        getattr(dynamodb, method)(**params)


class TestItemSizeOnUpdate:
    """https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items:
    "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
    (UTF-8 length) and attribute value lengths"; an UpdateItem is refused when "the updated item
    exceeds the maximum allowed size" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html):
    the item the update leaves, not its old and new values together."""

    def set_draft(self, dynamodb: Any, size: int, name: str = "draft") -> Any:
        return dynamodb.update_item(
            TableName=FLOWS,
            Key=key("flow"),
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": name},
            ExpressionAttributeValues={":d": {"S": "x" * size}},
        )

    def test_a_299_kb_value_replacing_a_200_kb_one_is_accepted(self, dynamodb: Any) -> None:
        # Given an item holding a 200 KB attribute
        self.set_draft(dynamodb, 200 * KB)

        # When an update replaces it with 299 KB
        self.set_draft(dynamodb, 299 * KB)

        # Then the item holds the new value
        item = dynamodb.get_item(TableName=FLOWS, Key=key("flow"))["Item"]
        assert len(item["draft"]["S"]) == 299 * KB

    def test_an_update_that_leaves_an_item_over_400_kb_is_refused(self, dynamodb: Any) -> None:
        # Given an item holding a 200 KB attribute
        self.set_draft(dynamodb, 200 * KB)

        # When an update adds another 210 KB attribute
        status, code, _ = refusal(self.set_draft, dynamodb=dynamodb, size=210 * KB, name="other")

        # Then it is DynamoDB's 400, and the item is as it was
        assert (status, code) == (400, "ValidationException")
        item = dynamodb.get_item(TableName=FLOWS, Key=key("flow"))["Item"]
        assert set(item) == {"PK", "SK", "draft"}

    def test_a_299_kb_draft_replacing_a_200_kb_one_is_200_through_the_api(self, editor: Any) -> None:
        # Given a flow whose draft is 200 KB
        created = editor.create(key="big", name="big", draftConfig=padded_config("a", 200 * KB))
        assert created.status == 201, created.body

        # When an editor replaces it with a 299 KB one (a 500 on moto alone)
        updated = editor.update(id=created.body["id"], draftConfig=padded_config("b", 299 * KB))

        # Then it is stored, as DynamoDB stores it
        assert updated.status == 200, updated.body
        assert editor.get(id=created.body["id"]).body["draftConfig"]["pad"][:1] == "b"


def padded_config(fill: str, size: int) -> dict[str, Any]:
    """A valid v2 config of about ``size`` bytes as JSON."""
    return {**v2_config(), "pad": fill * (size - 400)}


class TestQueryStartKey:
    """https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html (ExclusiveStartKey:
    "the primary key of the first item that this operation will evaluate"): a start key outside the key
    condition is a ValidationException ("The provided starting key is outside query boundaries based on
    provided conditions"), on a table and on an index; moto 5.2.5 pages on from it."""

    @pytest.fixture
    def stored(self, dynamodb: Any) -> None:
        for pk in ("T#a#F#1", "T#b#F#1"):
            for sk in ("RV#1", "RV#2", "RV#3"):
                dynamodb.put_item(TableName=FLOWS, Item=key(pk, sk))

    def query(self, dynamodb: Any, start: dict[str, Any], sort_bound: str | None = None) -> Any:
        condition, values = "PK = :pk", {":pk": {"S": "T#a#F#1"}}
        if sort_bound is not None:
            condition, values = condition + " AND SK >= :low", values | {":low": {"S": sort_bound}}
        return dynamodb.query(
            TableName=FLOWS, KeyConditionExpression=condition, ExpressionAttributeValues=values, ExclusiveStartKey=start
        )

    @pytest.mark.usefixtures("stored")
    def test_a_start_key_within_the_condition_pages_on(self, dynamodb: Any) -> None:
        page = self.query(dynamodb, key("T#a#F#1", "RV#1"), sort_bound="RV#1")
        assert [item["SK"]["S"] for item in page["Items"]] == ["RV#2", "RV#3"]

    @pytest.mark.usefixtures("stored")
    @pytest.mark.parametrize(
        ("start", "sort_bound"),
        [(key("T#b#F#1", "RV#1"), None), (key("T#a#F#1", "RV#1"), "RV#2")],
        ids=["another partition", "below the sort bound"],
    )
    def test_a_start_key_outside_the_condition_is_a_validation_exception(
        self, dynamodb: Any, start: dict[str, Any], sort_bound: str | None
    ) -> None:
        with pytest.raises(ClientError) as refused:
            self.query(dynamodb, start, sort_bound)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "outside query boundaries" in refused.value.response["Error"]["Message"]
