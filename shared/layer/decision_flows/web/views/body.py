"""What every response body shares: camelCase JSON, fields left out rather than null, pagination."""

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from decision_flows.models.page import Page

# ISO 8601 UTC with milliseconds and Z (the contract's timestamps): RFC 3339 date-time in the document.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
# A timestamp that is null until the event it stamps happens.
NullableTimestamp = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]


def left_out_when_none() -> Any:
    """A field that the response leaves out, rather than sending null, when it has no value."""
    return Field(default=None, exclude_if=lambda value: value is None)


class ResponseBody(BaseModel):
    # Built on first use, not at import: a function answers with one or two views of the many it imports.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def fields_of(cls, source: object, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The values of ``source``'s attributes that this view has a field of the same name for."""
        return {
            name: getattr(source, name) for name in cls.model_fields if name not in exclude and hasattr(source, name)
        }


class PaginationView(ResponseBody):
    total: int | None = left_out_when_none()
    limit: int
    has_more: bool
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any], limit: int) -> Self:
        return cls(total=page.total, limit=limit, has_more=page.next_cursor is not None, next_cursor=page.next_cursor)
