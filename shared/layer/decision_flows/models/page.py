"""One page of a keyset-paginated listing, as the access layer hands it to the domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Page[T](BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
