"""`python -m bench.report`: docs/PERFORMANCE.md shows the latest tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report


def test_the_page_gets_the_latest_tables_between_its_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a page with an old table between the markers, and two benchmarks' latest results
    readme = tmp_path / "README.md"
    readme.write_text(f"# Service\n\n## Performance\n\n{report.START}\nold table\n{report.END}\n\n## Next\n")
    monkeypatch.setattr(report, "PAGE", readme)
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    report.write("embedded_store", {"rows": []}, "| embedded store |\n|---|")
    report.write("cold_start", {"rows": []}, "| cold start |\n|---|")

    # When the page is updated
    report.update_page()

    # Then the section holds the latest tables in the README's order, and the rest is untouched
    assert readme.read_text() == (
        f"# Service\n\n## Performance\n\n{report.START}\n| cold start |\n|---|\n\n| embedded store |\n|---|\n"
        f"{report.END}\n\n## Next\n"
    )


def test_a_page_without_markers_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Service\n")
    monkeypatch.setattr(report, "PAGE", readme)

    with pytest.raises(SystemExit):
        report.update_page()
    assert readme.read_text() == "# Service\n"
