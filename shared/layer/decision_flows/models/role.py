"""The caller's role, apart from the identity model so that the runtime read path (which loads no
pydantic) can rank roles too."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    """Ordered so that a higher role includes every right of a lower one."""

    VIEWER = 1
    EDITOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        """Exactly "viewer", "editor" or "admin" (KeyError otherwise): no case or Unicode folding,
        under which "adm\u0131n" (a dotless i) would upper-case to ADMIN."""
        return {role.name.lower(): role for role in cls}[name]
