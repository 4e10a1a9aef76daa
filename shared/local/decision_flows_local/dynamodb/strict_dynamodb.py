"""DynamoDB's documented refusals that moto 5.2.5 skips, applied to the local store.

moto forgives what DynamoDB refuses, so a defect that only AWS would show passes every local run.
``install()`` patches moto's DynamoDB (once per process, for the pinned release) to apply:

- ``ClientRequestToken`` on TransactWriteItems: a token is kept 10 minutes after its request
  completes; the same token with other parameters is ``IdempotentParameterMismatchException``, the
  same token while its first request still runs is ``TransactionInProgressException``, and the same
  token with the same parameters after a success succeeds again without writing (no stream record).
- Key sizes on reads as on writes: a partition key over 2048 bytes or a sort key over 1024 bytes is
  ``ValidationException`` for GetItem, BatchGetItem, Query (key conditions and ExclusiveStartKey),
  UpdateItem, DeleteItem and every item of a transaction; moto checks them only when it stores an item.
- A Query's ExclusiveStartKey must lie within its key condition (the same partition key, a sort key
  the range condition admits): DynamoDB refuses one outside with ``ValidationException``; moto pages
  on from it, so a cursor carried over to another partition or another bound would pass locally.
- The size of an updated item is the size of the item the update leaves: moto counts the replaced
  attribute's old value as well, so replacing a 200 KB attribute with a 299 KB one fails there.

Local tooling only: the Lambda layer never imports this module.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from decision_flows_local.dynamodb.moto_transactions import check_moto_release

# moto's own figure for DynamoDB's 400 KB (it measured the real limit between 409 and 410 KB).
MOTO_ITEM_SIZE_LIMIT = 405_000
TOKEN_WINDOW_SECONDS = 600.0  # "valid for 10 minutes after the first request that uses it is completed"
_installed = threading.Lock()


@dataclass
class _TokenUse:
    fingerprint: str
    completed_at: float | None  # None while the first request with the token runs
    succeeded: bool = False


class TokenLedger:
    """The ClientRequestTokens of one account and region's DynamoDB, as DynamoDB keeps them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._uses: OrderedDict[str, _TokenUse] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, token: str, parameters: dict[str, Any], transact: Callable[[], Any], replay: Any) -> Any:
        """Run ``transact`` under ``token``, or answer as DynamoDB does for a token it already holds."""
        fingerprint = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
        with self._lock:
            self._forget_expired()
            use = self._uses.get(token)
            if use is not None:
                if use.fingerprint != fingerprint:
                    raise _refusal(
                        "IdempotentParameterMismatchException",
                        "Request token reused with different parameters within the idempotency window.",
                    )
                if use.completed_at is None:
                    raise _refusal("TransactionInProgressException", "The transaction with this token is in progress.")
                if use.succeeded:
                    return replay
            use = self._uses[token] = _TokenUse(fingerprint, None)
            self._uses.move_to_end(token)
        try:
            result = transact()
            use.succeeded = True
            return result
        finally:
            with self._lock:
                use.completed_at = self.clock()

    def _forget_expired(self) -> None:
        now = self.clock()
        while self._uses:
            oldest = next(iter(self._uses.values()))
            if oldest.completed_at is None or now - oldest.completed_at < TOKEN_WINDOW_SECONDS:
                return
            self._uses.popitem(last=False)


def _refusal(code: str, message: str) -> Exception:
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

    return DynamodbException(ERROR_TYPE_PREFIX + code, message)


def token_ledger(backend: Any) -> TokenLedger:
    """The backend's ledger; a reset backend (a new mock) starts with none."""
    ledger: TokenLedger | None = getattr(backend, "client_request_tokens", None)
    if ledger is None:
        ledger = backend.client_request_tokens = TokenLedger()
    return ledger


# Key sizes


def _check_key(table: Any, attributes: dict[str, Any]) -> None:
    """DynamoDB's key-size refusal for any key attribute (table or index) among ``attributes``."""
    _check_values("partition", [attributes.get(name) for name in table.hash_key_names])
    _check_values("sort", [attributes.get(name) for name in table.range_key_names])


def _check_values(kind: str, values: Iterable[Any]) -> None:
    from moto.dynamodb.exceptions import HashKeyTooLong, RangeKeyTooLong
    from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH

    limit, refusal = (
        (HASH_KEY_MAX_LENGTH, HashKeyTooLong) if kind == "partition" else (RANGE_KEY_MAX_LENGTH, RangeKeyTooLong)
    )
    if any(_size(value) > limit for value in values):
        raise refusal


def _size(value: Any) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(value).size() if isinstance(value, dict) and value else 0


def _transaction_keys(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    for entry in transact_items:
        for operation, params in entry.items():
            table = backend.tables.get(params.get("TableName"))
            if table is not None:
                _check_key(table, params.get("Item" if operation == "Put" else "Key") or {})


def _patch_key_sizes(backend_class: Any) -> None:
    original_get, original_query = backend_class.get_item, backend_class.query
    original_update, original_delete = backend_class.update_item, backend_class.delete_item

    def get_item(self: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _check_key(self.get_table(table_name), keys)
        return original_get(self, table_name, keys, *args, **kwargs)

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _check_key(self.get_table(table_name), key)
        return original_update(self, table_name, key, *args, **kwargs)

    def delete_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _check_key(self.get_table(table_name), key)
        return original_delete(self, table_name, key, *args, **kwargs)

    def query(
        self: Any,
        table_name: str,
        hash_key_dict: dict[str, Any] | None,
        range_comparison: str | None,
        range_value_dicts: list[dict[str, Any]],
        limit: int,
        exclusive_start_key: dict[str, Any] | None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_values("partition", [hash_key_dict])
        _check_values("sort", range_value_dicts)
        table = self.get_table(table_name)
        _check_key(table, exclusive_start_key or {})
        if exclusive_start_key:
            index = kwargs.get("index_name")
            _check_start_key(
                table.get_index(index) if index else table,
                (hash_key_dict, range_comparison, range_value_dicts),
                exclusive_start_key,
            )
        key_conditions = (hash_key_dict, range_comparison, range_value_dicts)
        return original_query(self, table_name, *key_conditions, limit, exclusive_start_key, *args, **kwargs)

    backend_class.get_item, backend_class.query = get_item, query
    backend_class.update_item, backend_class.delete_item = update_item, delete_item


def _check_start_key(keyed: Any, conditions: tuple[Any, str | None, list[Any]], start: dict[str, Any]) -> None:
    """A start key outside the query's key condition is refused, as DynamoDB refuses it. ``keyed``: the
    table or the queried index, whose schema names the key attributes."""
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models.dynamo_type import DynamoType

    schema = {key["KeyType"]: key["AttributeName"] for key in keyed.schema}
    hash_value, range_comparison, range_values = conditions
    range_name = schema.get("RANGE")
    within = start.get(schema["HASH"]) == hash_value and (
        not range_comparison
        or range_name not in start
        or DynamoType(start[range_name]).compare(range_comparison, [DynamoType(v) for v in range_values])
    )
    if not within:
        raise MockValidationException(
            "The provided starting key is outside query boundaries based on provided conditions"
        )


# Item size on update


def _patch_update_size(limited_size_dict: Any) -> None:
    """moto sizes an attribute's new value on top of the whole item, the value it replaces included;
    DynamoDB sizes the item the write leaves, so the replaced value does not count."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    def size(name: str, value: Any) -> int:
        return bytesize(name) + (value.size() if type(value) is DynamoType else bytesize(str(value)))

    def setitem(self: Any, key: str, value: Any) -> None:
        leaves = size(key, value) + sum(size(name, old) for name, old in self.items() if name != key)
        if leaves > MOTO_ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    limited_size_dict.__setitem__ = setitem


# Installation


def _patch_tokens(handler_class: Any) -> None:
    original = handler_class.transact_write_items

    def transact_write_items(self: Any) -> Any:
        from moto.core.responses import ActionResult

        _transaction_keys(self.dynamodb_backend, self.body.get("TransactItems") or [])
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        parameters = {name: value for name, value in self.body.items() if name != "ClientRequestToken"}
        replay = ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        return token_ledger(self.dynamodb_backend).run(token, parameters, lambda: original(self), replay)

    handler_class.transact_write_items = transact_write_items


def install() -> None:
    """Apply DynamoDB's rules to the process's moto; safe to call more than once."""
    check_moto_release("the strict store's rules", "decision_flows_local/dynamodb/strict_dynamodb.py")
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    from moto.dynamodb.responses import DynamoHandler

    with _installed:
        if getattr(DynamoHandler, "strict", False):
            return
        _patch_tokens(DynamoHandler)
        _patch_key_sizes(models.DynamoDBBackend)
        _patch_update_size(LimitedSizeDict)
        DynamoHandler.strict = True  # type: ignore[attr-defined]
