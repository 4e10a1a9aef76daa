"""`python -m bench.report`: docs/PERFORMANCE.md shows the latest tables, and keeps the ones not rerun."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Given a page with two benchmarks' tables between its markers
    held = "<!-- cold_start -->\nold cold start\n\n<!-- dynamodb_cost -->\nold cost\n"
    page = tmp_path / "PERFORMANCE.md"
    page.write_text(f"# Performance\n\n{report.START}\n{held}{report.END}\n\n## Next\n")
    monkeypatch.setattr(report, "PAGE", page)
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    return page


def test_the_page_gets_the_latest_tables_and_keeps_the_ones_not_rerun(page: Path) -> None:
    # Given fresh results of one benchmark only (results are not committed: a fresh checkout has none)
    report.write("dynamodb_cost", {"rows": []}, "| cost |\n|---|")

    # When the page is updated
    report.update_page()

    # Then that benchmark's table is the latest, the other is kept, in the page's order, the rest untouched
    assert page.read_text() == (
        f"# Performance\n\n{report.START}\n<!-- cold_start -->\nold cold start\n\n"
        f"<!-- dynamodb_cost -->\n| cost |\n|---|\n{report.END}\n\n## Next\n"
    )


def test_a_page_without_markers_is_refused(page: Path) -> None:
    page.write_text("# Service\n")

    with pytest.raises(SystemExit):
        report.update_page()
    assert page.read_text() == "# Service\n"
