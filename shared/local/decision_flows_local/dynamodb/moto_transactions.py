"""TransactWriteItems on the embedded store: all or nothing, without copying whole tables.

moto 5.2.5 deep-copies every table a transaction touches before it starts and, when it cancels,
puts the copies in place of the live tables. That costs O(size of the tables) per transaction (a
long local session slows down as it fills), and it leaves anything holding the old table objects,
a stream reader above all, on a detached copy that holds the cancelled steps' records and never
gets another one. DynamoDB does neither: a cancelled transaction changes nothing and emits nothing.

``install()`` keeps moto's own transaction logic (conditions, cancellation reasons, validation)
and replaces only its snapshot: before the call, the items the transaction names and the length of
each touched table's stream are noted; if the call raises, those items are put back and the stream
records it added are removed, in the same table objects. Local tooling only: the Lambda layer never
imports this module.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

# The moto release whose transact_write_items this was read against (pyproject.toml pins it).
PINNED_MOTO = "5.2.5"
_installed = threading.Lock()


class UnsupportedMoto(RuntimeError):
    """The installed moto is not the release this module was checked against."""


@dataclass
class _NamedItem:
    table: Any
    hash_key: Any
    range_key: Any
    before: Any  # moto's Item as it was, or None when the item did not exist


class _Journal:
    """What one transaction may change, noted before it runs, and how to put it back."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self._items: list[_NamedItem] = []
        self._stream_lengths: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            for operation, params in entry.items():  # one each; moto refuses more only when it gets there
                self._note(backend, operation, params)

    def _note(self, backend: Any, operation: str, params: Any) -> None:
        try:
            table = backend.get_table(params["TableName"])  # a name or an ARN, as moto takes them
        except Exception:  # no such table: moto cancels that step before it writes it
            return
        if table.stream_shard is not None:
            self._stream_lengths.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        key = self._key(table, operation, params)
        if key is None:
            return  # moto cancels this step before it writes it
        current = table.get_item(*key)
        # Put and Delete replace or drop moto's Item object; only Update changes it in place.
        before = copy.deepcopy(current) if operation == "Update" else current
        self._items.append(_NamedItem(table, *key, before))

    @staticmethod
    def _key(table: Any, operation: str, params: dict[str, Any]) -> tuple[Any, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        attributes: Any = params.get("Item") if operation == "Put" else params.get("Key")
        try:
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
        except Exception:  # a malformed key: moto cancels that step before writing it
            return None
        return hash_key, range_key

    def undo(self) -> None:
        for named in reversed(self._items):
            stored = named.table.items
            if named.range_key is None:
                if named.before is None:
                    stored.pop(named.hash_key, None)
                else:
                    stored[named.hash_key] = named.before
            elif named.before is None:
                stored[named.hash_key].pop(named.range_key, None)
            else:
                stored[named.hash_key][named.range_key] = named.before
        for shard, length in self._stream_lengths.values():
            del shard.items[length:]


def _deepcopy_all_but_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """moto's ``copy.deepcopy``, except that a Table is its own snapshot: the journal keeps what a
    transaction needs to undo, so moto's "restore the copy" becomes putting back the same object."""
    from moto.dynamodb.models.table import Table

    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def check_moto_release(what: str, where: str) -> None:
    """Refuse to patch a moto release other than the one ``what`` (in ``where``) was read against."""
    installed_version = version("moto")
    if installed_version != PINNED_MOTO:
        raise UnsupportedMoto(
            f"moto {installed_version} is installed; {what} were checked against {PINNED_MOTO}"
            f" ({where}); `make clean` reinstalls the pinned one."
        )


def install() -> None:
    """Make the process's moto DynamoDB transactions journaled; safe to call more than once."""
    check_moto_release("the embedded store's transactions", "decision_flows_local/dynamodb/moto_transactions.py")
    import moto.dynamodb.models as models

    with _installed:
        if getattr(models.DynamoDBBackend.transact_write_items, "journaled", False):
            return
        original = models.DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            journal = _Journal(self, transact_items)
            try:
                original(self, transact_items)
            except BaseException:
                journal.undo()
                raise

        transact_write_items.journaled = True  # type: ignore[attr-defined]
        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        # The module's only deep copies are the transaction's table snapshot and UpdateItem's old image.
        models.copy = SimpleNamespace(deepcopy=_deepcopy_all_but_tables)  # type: ignore[assignment,attr-defined]
