"""When the client tries a failed refresh again: backoff doubling from 1 s up to 30 s with jitter,
never before Retry-After, in either of RFC 9110's forms."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from decision_flows_client.retry import MAX_DELAY, backoff, retry_after_seconds


@pytest.mark.parametrize("failures", range(1, 12))
def test_backoff_doubles_up_to_its_cap_each_drawn_between_half_and_all(failures: int) -> None:
    ceiling = min(MAX_DELAY, 2.0 ** (failures - 1))

    delays = [backoff(failures, None) for _ in range(200)]

    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1  # jittered: a fleet that failed together does not retry together


def test_backoff_never_comes_before_retry_after() -> None:
    assert backoff(1, 120.0) == 120.0
    assert backoff(6, 0.5) >= MAX_DELAY / 2


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    in_a_minute = retry_after_seconds(formatdate(time.time() + 60, usegmt=True))

    assert retry_after_seconds("17") == 17.0
    assert in_a_minute is not None
    assert 0 < in_a_minute <= 60
    assert retry_after_seconds(formatdate(time.time() - 60, usegmt=True)) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Sun, 06 Dec 2026 25:99:00"])
def test_an_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert retry_after_seconds(value) is None
