"""One page of a keyset-paginated listing, as the access layer hands it to the domain."""

from __future__ import annotations

from typing import NamedTuple


# Not a pydantic model: it crosses no boundary (the access layer fills it with models it has
# validated), and a pydantic generic costs every cold start a class per parametrisation, which
# pydantic keeps only in a weak cache, so one written inside a call was rebuilt after a collection.
class Page[T](NamedTuple):
    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
