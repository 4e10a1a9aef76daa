"""How big the reliability tests run: bounded by default (CI, `make test`), full with `make reliability`."""

from __future__ import annotations

import os

FULL = os.environ.get("RELIABILITY_PROFILE") == "full"


def scaled(bounded: int, full: int) -> int:
    """``bounded`` in CI's run, ``full`` when RELIABILITY_PROFILE=full."""
    return full if FULL else bounded
