"""decision-flows-client stays installable anywhere: standard library only, Python >= 3.10, typed."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

from decision_flows_client import LiveState, MalformedStateError
from tests.client.fake_service import state_answer

CLIENT = Path(__file__).resolve().parents[2] / "shared" / "client"
PACKAGE = CLIENT / "decision_flows_client"


def test_the_distribution_needs_nothing_beyond_the_standard_library() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]

    assert project["name"] == "decision-flows-client"
    assert project["dependencies"] == []
    assert project["requires-python"] == ">=3.10"
    assert (PACKAGE / "py.typed").exists()


def test_the_package_imports_only_the_standard_library_and_itself() -> None:
    imported: set[str] = set()
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])

    assert imported - sys.stdlib_module_names == {"decision_flows_client"}


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {**state_answer("offers", 3), "flowId": None},
        {**state_answer("offers", 3), "champion": {"version": "3", "publishedAt": "x", "config": {}}},
        {**state_answer("offers", 3), "champion": {"version": 3, "publishedAt": "x"}},
        {**state_answer("offers", 3), "challenger": 4},
        {
            **state_answer("offers", 3, challenger=4),
            "challenger": {**state_answer("o", 3, challenger=4)["challenger"], "percent": 101},
        },
        {
            **state_answer("offers", 3, challenger=4),
            "challenger": {**state_answer("o", 3, challenger=4)["challenger"], "include": "qa"},
        },
    ],
    ids=[
        "not an object",
        "no flowId",
        "version not a number",
        "no config",
        "challenger not an object",
        "percent over 100",
        "include not a list",
    ],
)
def test_an_answer_without_the_contracts_shape_is_refused(answer: object) -> None:
    with pytest.raises(MalformedStateError):
        LiveState.from_answer(answer)
