"""The diff cost benchmark on small configs: it diffs and consumes what it says it does (bench/diff_cost.py;
the full sizes run in `make bench`). How fast is never checked here; tests/unit/domain/test_config_diff.py
counts the diff's work."""

from __future__ import annotations

from typing import Any

import pytest

from bench.diff_cost import EDITS, consumer_markdown, diff_markdown, measure_consumer, measure_diffs


@pytest.fixture(scope="module")
def diffs() -> list[dict[str, Any]]:
    return measure_diffs((100, 200), repeats=1)


def test_each_diff_is_of_the_edit_it_names_at_its_size(diffs: list[dict[str, Any]]) -> None:
    # Every edge replaced: each one added and removed; every other one: half of them
    replaced = {"every edge replaced": 1, "every other edge replaced": 2}
    assert set(replaced) == set(EDITS)
    assert [(row["edit"], row["edges"]) for row in diffs] == [(edit, edges) for edit in EDITS for edges in (100, 200)]
    for row in diffs:
        expected = row["edges"] // replaced[row["edit"]]
        assert (row["edges_added"], row["edges_removed"]) == (expected, expected), row
        assert row["patch_operations"] >= expected
    assert diffs[1]["config_bytes"] > diffs[0]["config_bytes"]


def test_the_diff_table_judges_the_growth_against_the_smallest_size(diffs: list[dict[str, Any]]) -> None:
    text = diff_markdown(diffs)
    assert "2 times the edges cost about 2 times as much" in text
    assert text.count("| every edge replaced | 100 |") == 1


def test_the_consumer_is_timed_on_draft_edits_with_and_without_edges() -> None:
    # measure_consumer itself checks that each record was consumed and left an `updated` entry with
    # configChanges; here, that both kinds of draft were timed at the size it reports
    (row,) = measure_consumer((100,), records=2)
    assert row["edges"] == 100
    assert row["config_bytes"] > 3_000
    assert row["edges_ms"] > 0
    assert row["no_edges_ms"] > 0
    assert "| 100 |" in consumer_markdown([row])
