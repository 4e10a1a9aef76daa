"""When to try a failed refresh again: exponential backoff with jitter, capped, and never before the
service's Retry-After (delta-seconds or an HTTP date)."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

FIRST_DELAY = 1.0
MAX_DELAY = 30.0


def backoff(failures: int, retry_after: float | None) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: 1, 2, 4, … up to 30 s, each drawn
    between half and all of it (so that a fleet that failed together does not retry together), and
    at least ``retry_after``."""
    ceiling = min(MAX_DELAY, FIRST_DELAY * 2.0 ** min(failures - 1, 16))
    delay = ceiling * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not secrecy)
    return max(delay, retry_after or 0.0)


def retry_after_seconds(value: str | None) -> float | None:
    """RFC 9110's Retry-After: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    return max(0.0, moment.timestamp() - time.time())
