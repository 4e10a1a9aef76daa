"""`python -m bench.embedded_store --quick`: it fills the store it claims to fill and times publishes."""

from __future__ import annotations

import re

import pytest

from bench import embedded_store


def test_the_quick_run_reaches_each_fill_and_reports_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    # When the benchmark runs small
    assert embedded_store.main(["--quick"]) == 0

    # Then each row's store held at least its target, and the ratio of the rows is judged
    printed = capsys.readouterr().out
    rows = re.findall(r"^\| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", printed, re.MULTILINE)
    assert [int(items) >= target for (items, *_), target in zip(rows, (100, 400), strict=True)] == [True, True]
    assert all(float(p50) > 0 and float(p90) >= float(p50) for _, _, p50, p90 in rows)
    assert re.search(r"Largest ÷ smallest p50: [\d.]+ \(goal ≤ 1\.5: (met|not met)\)", printed)
