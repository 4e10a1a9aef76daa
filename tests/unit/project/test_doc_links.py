"""Every relative link in the README and docs/ reaches a file of the repository, and its #anchor a heading.

The README is a map into docs/, so a moved page or a renamed heading must fail here rather than
leave a newcomer at a dead link. Links that leave the repository may only go to the team handbook
(../shared/, a sibling checkout that a clone does not have), so they are listed, not opened.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "events" / "README.md"]
HANDBOOK = ROOT.parent / "shared"
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def prose(page: Path) -> str:
    """A page without its code blocks, whose brackets are shell, not links."""
    return FENCED.sub("", page.read_text())


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page)) if not re.match(r"[a-z]+:", target)]


def broken(page: Path, target: str) -> str | None:
    """Why a link of a page leads nowhere, or None when it resolves."""
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    if not file.is_relative_to(ROOT):
        return None if file.is_relative_to(HANDBOOK) else "leaves the repository"
    if not file.is_file():
        return "no such file"
    if anchor and file.suffix == ".md" and anchor not in {slug(h) for h in HEADING.findall(prose(file))}:
        return f"no heading #{anchor}"
    return None


def test_the_slug_is_githubs() -> None:
    assert slug("Authentication, roles and limits") == "authentication-roles-and-limits"
    assert slug("Swagger / OpenAPI") == "swagger--openapi"
    assert slug("Data model (one table, tenant-prefixed keys)") == "data-model-one-table-tenant-prefixed-keys"


def test_a_missing_file_or_heading_is_reported() -> None:
    # Given a page inside the repository (the checker only follows links that stay in it)
    page = ROOT / "docs" / "API.md"

    # Then a link to a page that does not exist, or to a heading it lacks, is broken; a good one is not
    assert broken(page, "NOWHERE.md") == "no such file"
    assert broken(page, "CONTRACT.md#no-such-heading") == "no heading #no-such-heading"
    assert broken(page, "../../elsewhere/API.md") == "leaves the repository"
    assert broken(page, "#errors") is None


def test_every_relative_link_of_the_readme_and_docs_resolves() -> None:
    links = {(page.relative_to(ROOT).as_posix(), target) for page in PAGES for target in relative_links(page)}
    assert any(page == "README.md" for page, _ in links), "the link reader found no link in the README"
    dead = {f"{page} → {target}: {why}" for page, target in links if (why := broken(ROOT / page, target))}
    assert not dead, sorted(dead)
