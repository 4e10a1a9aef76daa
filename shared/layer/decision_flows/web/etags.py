"""Conditional requests: whether an If-None-Match header names an entity tag. Standard library only
(the runtime read path uses it too)."""

from __future__ import annotations


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (RFC 9110: a list, weak tags compare too, ``*``)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
