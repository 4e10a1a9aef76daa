"""Runtime reads: the ETag a poll names, and the configs an instance keeps within its budget."""

from __future__ import annotations

import pytest

from decision_flows.domain.live import ConfigCache, matches

ETAG = '"df_1:3"'


@pytest.mark.parametrize(
    ("header", "matched"),
    [
        (None, False),
        ("", False),
        (ETAG, True),
        (f"W/{ETAG}", True),
        (f'"df_1:2", {ETAG}', True),
        ("*", True),
        ('"df_1:2"', False),
        ("df_1:3", False),  # an ETag is quoted
    ],
)
def test_if_none_match_names_the_served_version(header: str | None, matched: bool) -> None:
    assert matches(header, ETAG) is matched


def test_the_least_recently_read_configs_go_first_when_the_budget_is_spent() -> None:
    cache = ConfigCache(max_bytes=10)
    cache.put(("t", "f", 1), "aaaa")
    cache.put(("t", "f", 2), "bbbb")
    assert cache.get(("t", "f", 1)) == "aaaa"  # read: now the most recent

    cache.put(("t", "f", 3), "cccc")

    assert (cache.get(("t", "f", 1)), cache.get(("t", "f", 2)), cache.get(("t", "f", 3))) == ("aaaa", None, "cccc")
    cache.put(("t", "f", 4), "x" * 11)  # larger than the whole budget: not kept, nothing dropped
    assert cache.get(("t", "f", 4)) is None
    assert cache.get(("t", "f", 3)) == "cccc"


def test_versions_of_other_tenants_and_flows_are_kept_apart() -> None:
    cache = ConfigCache()
    cache.put(("t1", "f", 1), "one")
    assert (cache.get(("t2", "f", 1)), cache.get(("t1", "g", 1))) == (None, None)
