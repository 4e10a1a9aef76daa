"""The embedded store's TransactWriteItems: all or nothing, as on DynamoDB, without moto's table copies.

moto 5.2.5 alone copies every touched table per transaction and, on cancel, swaps the copies in: a
stream reader is then stranded on a detached shard that holds the cancelled steps' records. These
tests hold the store to DynamoDB's semantics instead.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from decision_flows_local.dynamodb import moto_transactions
from decision_flows_local.dynamodb.embedded import embedded_table

FLOWS = os.environ["TABLE_NAME"]
FLOWS_ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{FLOWS}"
PLAIN = os.environ["RATE_LIMIT_TABLE_NAME"]  # hash key only, no stream


def key(pk: str, sk: str = "A") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def put(pk: str, value: str = "new", *, only_if_absent: bool = False) -> dict[str, Any]:
    step: dict[str, Any] = {"TableName": FLOWS, "Item": {**key(pk), "value": {"S": value}}}
    if only_if_absent:
        step["ConditionExpression"] = "attribute_not_exists(PK)"
    return {"Put": step}


def must_be_missing(pk: str) -> dict[str, Any]:
    return {"ConditionCheck": {"TableName": FLOWS, "Key": key(pk), "ConditionExpression": "attribute_not_exists(PK)"}}


def everything(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=repr)


def stream_records(table: str) -> list[dict[str, Any]]:
    shard = embedded_table(table).stream_shard
    return [record.to_json() for record in shard.items]


@pytest.fixture
def seeded(dynamodb: Any) -> Any:
    dynamodb.put_item(TableName=FLOWS, Item={**key("kept"), "value": {"S": "old"}})
    dynamodb.put_item(TableName=FLOWS, Item={**key("doomed"), "value": {"S": "old"}})
    dynamodb.put_item(TableName=FLOWS, Item={**key("present"), "value": {"S": "old"}})
    dynamodb.put_item(TableName=PLAIN, Item={"window": {"S": "w1"}, "count": {"N": "1"}})
    return dynamodb


def cancel(dynamodb: Any, *steps: dict[str, Any]) -> ClientError:
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=list(steps))
    return refused.value


def test_a_cancelled_transaction_leaves_every_table_and_the_stream_as_they_were(seeded: Any) -> None:
    # Given two tables, one with a stream, and the objects moto holds for them
    tables_before = {name: everything(seeded, name) for name in (FLOWS, PLAIN)}
    records_before = stream_records(FLOWS)
    objects_before = {name: embedded_table(name) for name in (FLOWS, PLAIN)}

    # When a transaction writes, updates, deletes and creates, then fails its last condition
    error = cancel(
        seeded,
        put("brand-new"),
        {
            "Update": {
                "TableName": FLOWS,
                "Key": key("kept"),
                "UpdateExpression": "SET #v = :v",
                "ExpressionAttributeNames": {"#v": "value"},
                "ExpressionAttributeValues": {":v": {"S": "changed"}},
            }
        },
        {"Delete": {"TableName": FLOWS, "Key": key("doomed")}},
        {"Put": {"TableName": PLAIN, "Item": {"window": {"S": "w2"}}}},
        must_be_missing("present"),
    )

    # Then DynamoDB's answer names the failed step, and nothing of the transaction is left anywhere
    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [reason["Code"] for reason in error.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    assert {name: everything(seeded, name) for name in (FLOWS, PLAIN)} == tables_before
    assert stream_records(FLOWS) == records_before
    # And the tables are the same objects: a stream reader holding them is not stranded
    assert {name: embedded_table(name) for name in (FLOWS, PLAIN)} == objects_before
    assert all(embedded_table(name) is objects_before[name] for name in objects_before)


def test_a_transaction_moto_refuses_outright_changes_nothing_either(seeded: Any) -> None:
    # Given the state before
    before, records_before = everything(seeded, FLOWS), stream_records(FLOWS)

    # When one transaction names the same item twice (moto writes the first step, then refuses)
    error = cancel(seeded, put("twice"), put("twice", "again"))

    # Then it is DynamoDB's ValidationException, and the first step was taken back
    assert error.response["Error"]["Code"] == "ValidationException"
    assert everything(seeded, FLOWS) == before
    assert stream_records(FLOWS) == records_before


def test_a_successful_transaction_writes_every_step_and_one_record_each(seeded: Any) -> None:
    # Given the stream as it is
    records_before = len(stream_records(FLOWS))

    # When a transaction's conditions all hold
    seeded.transact_write_items(
        TransactItems=[put("first", only_if_absent=True), {"Delete": {"TableName": FLOWS, "Key": key("doomed")}}]
    )

    # Then both steps landed, each with its stream record
    assert seeded.get_item(TableName=FLOWS, Key=key("first"))["Item"]["value"] == {"S": "new"}
    assert "Item" not in seeded.get_item(TableName=FLOWS, Key=key("doomed"))
    assert [record["eventName"] for record in stream_records(FLOWS)[records_before:]] == ["INSERT", "REMOVE"]


def test_a_stream_reader_keeps_reading_after_a_cancelled_transaction(seeded: Any) -> None:
    # Given a shard iterator taken at the end of the stream, as a consumer holds one
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = seeded.describe_table(TableName=FLOWS)["Table"]["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="LATEST")

    # When a transaction is cancelled after writing a step, and then a write lands
    cancel(seeded, put("phantom"), must_be_missing("present"))
    seeded.put_item(TableName=FLOWS, Item={**key("real"), "value": {"S": "new"}})

    # Then the same iterator reads the real write, and nothing of the cancelled one
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [record["dynamodb"]["Keys"]["PK"]["S"] for record in records] == ["real"]


def test_another_moto_release_is_refused_rather_than_patched_blind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_transactions, "version", lambda _: "5.3.0")
    with pytest.raises(moto_transactions.UnsupportedMoto, match=r"moto 5\.3\.0 is installed"):
        moto_transactions.install()


def test_the_pinned_moto_is_the_one_installed() -> None:
    # pyproject.toml's pin and the release this store was checked against must move together.
    from pathlib import Path

    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert f'"moto[dynamodb,server]=={moto_transactions.PINNED_MOTO}"' in pyproject


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(
            [
                {
                    "Update": {
                        "TableName": FLOWS,
                        "Key": key("missing"),
                        "UpdateExpression": "SET #v = :v",
                        "ExpressionAttributeNames": {"#v": "value"},
                        "ExpressionAttributeValues": {":v": {"S": "born"}},
                    }
                },
                must_be_missing("present"),
            ],
            id="an update that creates an item",
        ),
        pytest.param(
            [put("first"), {"Put": put("second")["Put"], "ConditionCheck": must_be_missing("x")["ConditionCheck"]}],
            id="an entry with two operations",
        ),
        pytest.param(
            [{"Put": {**put("by-arn")["Put"], "TableName": FLOWS_ARN}}, must_be_missing("present")],
            id="a table named by its ARN",
        ),
    ],
)
def test_every_refused_transaction_is_taken_back_whole(seeded: Any, steps: list[dict[str, Any]]) -> None:
    # Given the state before
    before, records_before = everything(seeded, FLOWS), stream_records(FLOWS)

    # When moto writes some steps of a transaction and then refuses it
    cancel(seeded, *steps)

    # Then nothing of it is left
    assert everything(seeded, FLOWS) == before
    assert stream_records(FLOWS) == records_before
