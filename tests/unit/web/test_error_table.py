"""The API's error table (docs/API.md) lists every code the API answers, each with every status it comes with.

The codes and statuses are collected from the code itself: every construction of a refusal (a
``DomainError`` class, whose status ``web.problem_details`` maps) with its code, read from the source
of the Lambda layer and the handlers. A new code without a row, a row without a code, or a code
answered with a status its row does not name fails here.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict

from decision_flows.domain import errors
from decision_flows.web.problem_details import STATUS_BY_ERROR, status_of
from decision_flows_local import template

SOURCES = [template.ROOT / "shared" / "layer" / "decision_flows", template.ROOT / "functions"]
API_DOC = template.ROOT / "docs" / "API.md"
# Codes that are made but never answered, and why.
NEVER_ANSWERED = {
    # domain/flow_rules.py: only a rollout plan's step refuses with it, as a suspended step's reason.
    "FLOW_NOT_ACTIVE",
    # dal/live_pointers.py: a live-entry write that lost to a newer one is dropped, not refused.
    "STALE_LIVE_ENTRY",
    # dal/flows.py: a guard for a write with no condition refused on one; a bug if ever seen.
    "UNEXPECTED_CONDITION",
    # dal/api_keys.py: the operators' key command's refusals; the API only reads keys (authorizer).
    "API_KEY_NOT_FOUND",
    "API_KEY_EXISTS",
}
CODE = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def refusal_classes() -> dict[str, int]:
    """Each refusal class's name and its HTTP status (subclasses take their base's)."""
    classes: dict[str, int] = {}
    pending = list(STATUS_BY_ERROR)
    while pending:
        cls = pending.pop()
        classes[cls.__name__] = status_of(cls("X", "x"))
        pending.extend(cls.__subclasses__())
    return classes


def constants(module: ast.Module) -> dict[str, str]:
    """A module's top-level string constants (``_STALE = "STALE_LIVE_ENTRY"``)."""
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update({target.id: node.value.value for target in node.targets if isinstance(target, ast.Name)})
    return found


def answered_codes() -> dict[str, set[int]]:
    """code → the statuses it is made with, from every ``SomeRefusal("CODE", …)`` in the sources."""
    classes = refusal_classes()
    answered: dict[str, set[int]] = defaultdict(set)
    unreadable = []
    for path in sorted(file for folder in SOURCES for file in folder.rglob("*.py")):
        module = ast.parse(path.read_text())
        names = constants(module)
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called not in classes:
                continue
            argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "code"), None)
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                answered[argument.value].add(classes[called])
            elif isinstance(argument, ast.Name) and argument.id in names:
                answered[names[argument.id]].add(classes[called])
            else:
                unreadable.append(f"{path.relative_to(template.ROOT)}:{node.lineno}")
    assert not unreadable, f"refusals whose code is not a literal or a module constant: {unreadable}"
    return {code: statuses for code, statuses in answered.items() if code not in NEVER_ANSWERED}


def documented_table() -> dict[str, set[int]]:
    """code → the statuses whose row names it, from the table under docs/API.md's Errors section."""
    text = API_DOC.read_text()
    table = text[text.index("| status | codes |") :].split("\n\n", 1)[0]
    listed: dict[str, set[int]] = defaultdict(set)
    for row in table.splitlines()[2:]:
        status, codes = row.strip("| ").split(" | ", 1)
        for code in CODE.findall(codes):
            listed[code].add(int(status))
    return dict(listed)


def test_the_collector_finds_codes_of_every_kind() -> None:
    # Literal codes, codes in module constants and codes of the web layer's own classes are all seen
    answered = answered_codes()
    assert answered["FLOW_NOT_FOUND"] == {404}
    assert answered["STORE_BUSY"] == {503}
    assert answered["UNSUPPORTED_MEDIA_TYPE"] == {415}
    assert answered["METHOD_NOT_ALLOWED"] == {405}
    assert errors.NotFound.__name__ in refusal_classes()


def test_the_api_doc_lists_every_code_with_every_status_it_comes_with() -> None:
    answered, listed = answered_codes(), documented_table()
    missing = {code: sorted(statuses) for code, statuses in answered.items() if not statuses <= listed.get(code, set())}
    assert not missing, f"codes the API answers with statuses the docs/API.md table lacks: {missing}"
    unknown = {code: sorted(statuses) for code, statuses in listed.items() if statuses - answered.get(code, set())}
    assert not unknown, f"docs/API.md rows for codes or statuses the API never answers: {unknown}"
