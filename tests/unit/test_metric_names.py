"""Every business event the functions count is named once, in ``Metric``, and documented."""

from __future__ import annotations

from pathlib import Path

from decision_flows.observability import Metric

ROOT = Path(__file__).resolve().parents[2]


def test_the_operations_docs_name_every_metric() -> None:
    # Given the README and docs/, wherever the metrics section lives
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(document.read_text(encoding="utf-8") for document in documents)
    # Then each metric the code can emit is named there, in backticks
    assert [metric.value for metric in Metric if f"`{metric.value}`" not in text] == []
