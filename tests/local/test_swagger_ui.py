"""Swagger UI at /swagger, loaded in headless Debian Chromium as a person's browser would: every operation renders."""

from __future__ import annotations

import html
import os
import re
import subprocess
from pathlib import Path

import pytest

from decision_flows_local.api import openapi
from tests.support.local_server import Server

CHROMIUM = Path("/usr/bin/chromium")
# One rendered operation: its method (in the block's class), path and summary, in that order in the DOM.
OPERATION = re.compile(
    r'class="opblock opblock-(\w+)\b.*?data-path="([^"]*)".*?class="opblock-summary-description">([^<]*)<', re.S
)


def rendered_operations(url: str, profile: Path) -> set[tuple[str, str, str]]:
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (apt-get, as root)"
        if os.environ.get("CI"):  # .ci/run installs it first: in CI this test always runs
            pytest.fail(missing)
        pytest.skip(missing)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    flags += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    # Virtual time lets the page's scripts run to the end (10 s of page time) without waiting that long.
    flags += [f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom"]
    command = [str(CHROMIUM), *flags, url]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout  # noqa: S603
    return {(method, path, html.unescape(summary)) for method, path, summary in OPERATION.findall(dom)}


def test_swagger_ui_renders_every_operation_of_the_document(module_server: Server, tmp_path: Path) -> None:
    document = openapi.build()
    expected = {
        (method, path, operation["summary"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert rendered_operations(f"{module_server.base}/swagger", tmp_path / "profile") == expected
