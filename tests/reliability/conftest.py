"""Figures the reliability tests report: printed at the end of the run, and written as JSON to
$RELIABILITY_FIGURES when set (docs/RELIABILITY.md quotes the last full run)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.figures import Figures
from tests.support.scale import FULL

_RECORDED: dict[str, dict[str, Any]] = {}


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """``figures(n=…, conflict_rate=…)``: the test's measured numbers, under the test's name."""

    def record(**values: Any) -> None:
        _RECORDED.setdefault(request.node.nodeid.split("::", 1)[1], {}).update(values)

    return record


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand the figures to the controller, which prints them for the whole run."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["reliability_figures"] = json.dumps(_RECORDED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _RECORDED.update(json.loads(getattr(node, "workeroutput", {}).get("reliability_figures", "{}")))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RECORDED:
        return
    terminalreporter.section(f"reliability figures ({'full' if FULL else 'bounded'} profile)")
    for test, values in _RECORDED.items():
        shown = ", ".join(f"{name}={value}" for name, value in values.items())
        terminalreporter.write_line(f"{test}: {shown}")
    if target := os.environ.get("RELIABILITY_FIGURES"):
        Path(target).write_text(json.dumps({"profile": "full" if FULL else "bounded", "figures": _RECORDED}, indent=2))
