"""Where every benchmark leaves its figures: bench/results/<name>.json and <name>.md (not committed).

`make bench` runs each benchmark, then `python -m bench.report` copies the Markdown tables into
docs/PERFORMANCE.md, between its two markers: that page is the committed record. A benchmark with no
results here keeps the table the page holds (each table follows a `<!-- name -->` line).
"""

from __future__ import annotations

import json
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
# The order of the page's tables; a benchmark that has not run yet is left out.
SECTIONS = ("cold_start", "dynamodb_cost", "diff_cost", "live_reads", "client_decisions")


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "system": platform.system()}


def write(name: str, payload: dict[str, Any], markdown: str) -> None:
    """Save one benchmark's results: the JSON for tools, the Markdown for people."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamped = {"benchmark": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), **machine(), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(stamped, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")
    print(markdown)


def finish(name: str, payload: dict[str, Any], markdown: str, quick: bool) -> None:
    """A full run's results saved (``write``); a quick run's only printed, leaving the last full run's."""
    if quick:
        print(markdown)
    else:
        write(name, payload, markdown)


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def update_page() -> None:
    text = PAGE.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{PAGE.name} has no {START} … {END} section")
    head, rest = text.split(START, 1)
    section, tail = rest.split(END, 1)
    parts = re.split(r"^<!-- (\w+) -->$", section, flags=re.MULTILINE)
    tables = {name: table.strip() for name, table in zip(parts[1::2], parts[2::2], strict=True)}
    tables |= {
        name: (RESULTS / f"{name}.md").read_text().strip() for name in SECTIONS if (RESULTS / f"{name}.md").exists()
    }
    shown = "".join(f"<!-- {name} -->\n{tables[name]}\n\n" for name in SECTIONS if name in tables)
    PAGE.write_text(head + START + "\n" + shown.rstrip() + "\n" + END + tail)


if __name__ == "__main__":
    update_page()
    sys.exit(0)
