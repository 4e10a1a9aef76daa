"""Keyset paging over one Query: every list of the service pages through here.

One item beyond ``limit`` is asked for, so its presence says there is more. DynamoDB may also stop
early (at 1 MB of data, or when a filter drops what it read) and answer LastEvaluatedKey with fewer
items than asked, even none: there is more then too. The next page starts after the last item
returned, or at DynamoDB's own key when none was, so an empty page never ends a list early.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from decision_flows.dal import cursor
from decision_flows.dal.store_errors import call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


class QueriedPage(NamedTuple):
    """One page of raw items, the ``lead`` items asked for before it, and where the next page starts."""

    items: list[Item]
    next_cursor: str | None
    lead: list[Item]


class PageQuery(NamedTuple):
    """What to page through: the Query's own parameters, the key attributes a cursor holds, which
    cursors belong to this list (``in_scope``), and how many ``lead`` items come before the first page."""

    params: Mapping[str, Any]
    key_names: frozenset[str]
    in_scope: Callable[[dict[str, str]], bool]
    lead: int = 0


def query_page(client: DynamoDBClient, query: PageQuery, limit: int, page_cursor: str | None) -> QueriedPage:
    """One Query for ``limit`` items (after ``lead`` items the caller reads first, such as an anchor that
    proves the parent exists), starting after ``page_cursor``, which must be ``in_scope``."""
    lead, key_names = query.lead, query.key_names
    request: dict[str, Any] = {**query.params, "Limit": lead + limit + 1}
    if page_cursor is not None:
        request["ExclusiveStartKey"] = cursor.decode(page_cursor, query.in_scope, key_names)
    response = call(client.query, **request)
    found: list[Item] = response.get("Items", [])
    rest = found[lead:]
    page = rest[:limit]
    end = _page_end(rest, limit, response.get("LastEvaluatedKey"), page, key_names)
    return QueriedPage(items=page, next_cursor=cursor.encode(end) if end else None, lead=found[:lead])


def _page_end(
    found: list[Item], limit: int, last_evaluated: Item | None, page: list[Item], key_names: frozenset[str]
) -> dict[str, str] | None:
    if len(found) <= limit and last_evaluated is None:
        return None
    start = page[-1] if page else last_evaluated
    assert start is not None, "more was found, so a page or DynamoDB's key says where"
    return {name: start[name]["S"] for name in key_names}
