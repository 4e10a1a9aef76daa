"""Keyset paging (dal/paging.py) and the three lists that page through it, over a scripted Query."""

from __future__ import annotations

from typing import Any, cast

import pytest

from decision_flows.dal import cursor, key_schema, paging
from decision_flows.dal.flows import FlowRepository
from decision_flows.dal.history import HistoryRepository

PK = key_schema.flow_pk("tenant-a", "df_1")
CURSOR_KEYS = frozenset({"PK", "SK"})


class ScriptedQuery:
    """A client whose Query answers what the test says, and remembers what it was asked."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.asked: list[dict[str, Any]] = []

    def query(self, **params: Any) -> dict[str, Any]:
        self.asked.append(params)
        return self.response


def item(sort_key: str) -> dict[str, Any]:
    return {"PK": {"S": PK}, "SK": {"S": sort_key}}


def page_of(client: ScriptedQuery, limit: int = 2, page_cursor: str | None = None) -> paging.QueriedPage:
    query = paging.PageQuery({"TableName": "t"}, CURSOR_KEYS, lambda start: start["PK"] == PK)
    return paging.query_page(cast("Any", client), query, limit, page_cursor)


def test_one_item_more_than_the_limit_says_there_is_a_next_page() -> None:
    client = ScriptedQuery({"Items": [item("a"), item("b"), item("c")]})

    page = page_of(client)

    assert [found["SK"]["S"] for found in page.items] == ["a", "b"]
    assert page.next_cursor == cursor.encode({"PK": PK, "SK": "b"})
    assert client.asked[0]["Limit"] == 3


def test_a_short_page_without_a_last_evaluated_key_is_the_end() -> None:
    assert page_of(ScriptedQuery({"Items": [item("a")]})).next_cursor is None


def test_a_short_page_stopped_by_dynamodb_continues_after_its_last_item() -> None:
    client = ScriptedQuery({"Items": [item("a")], "LastEvaluatedKey": item("a")})

    assert page_of(client).next_cursor == cursor.encode({"PK": PK, "SK": "a"})


def test_an_empty_page_stopped_by_dynamodb_continues_from_its_key() -> None:
    # Given DynamoDB stopped (1 MB, or a filter) before returning any item
    client = ScriptedQuery({"Items": [], "LastEvaluatedKey": item("x")})

    # When the page is read, and then the next one
    page = page_of(client)
    page_of(client, page_cursor=page.next_cursor)

    # Then the list is not over: the next page starts from DynamoDB's own key
    assert page.items == []
    assert client.asked[1]["ExclusiveStartKey"] == item("x")


def test_a_cursor_out_of_scope_is_refused_before_any_query() -> None:
    client = ScriptedQuery({"Items": []})
    foreign = cursor.encode({"PK": key_schema.flow_pk("tenant-b", "df_1"), "SK": "a"})

    with pytest.raises(Exception, match="cursor"):
        page_of(client, page_cursor=foreign)
    assert client.asked == []


@pytest.mark.parametrize(
    ("list_page", "stopped_at"),
    [
        (
            lambda client: HistoryRepository(client, "t").list_changes("tenant-a", "df_1", 2, None),
            key_schema.change_sk(7),
        ),
        (
            lambda client: FlowRepository(client, "t").list_versions(
                "tenant-a", "df_1", 2, cursor.encode({"PK": PK, "SK": key_schema.version_sk(1)})
            ),
            key_schema.version_sk(7),
        ),
    ],
    ids=["list_changes", "list_versions"],
)
def test_every_list_goes_on_after_an_empty_page_dynamodb_stopped(list_page: Any, stopped_at: str) -> None:
    # Given DynamoDB stopped before returning any item (list_changes used to end the list here)
    client = ScriptedQuery({"Items": [], "LastEvaluatedKey": item(stopped_at)})

    # When the list reads a page
    page = list_page(client)

    # Then the page is empty but the list goes on from DynamoDB's key
    assert page.items == []
    assert page.next_cursor == cursor.encode({"PK": PK, "SK": stopped_at})
