"""A client generated from the OpenAPI document parses what the API and API Gateway answer.

Run by `make openapi-client-check` with openapi-python-client's own interpreter (its pins stay out of
the application's venv): ``python tests/support/generated_client.py <openapi.json>``. It generates the
client into a temporary folder, then hands every operation that lists a 401 the two 401 bodies a
caller meets (the handlers' problem details, API Gateway's own ``{"message": "Unauthorized"}``), and
every operation a 404 problem; a body the generated code cannot parse fails the check.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "decision_flows_api_client"
# No post hooks: the generator would run ruff, which this venv does not hold (and need not).
CONFIG = "post_hooks: []\n"
PROBLEM_401 = {
    "type": "/problems/unauthenticated",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The credential is missing, unknown, revoked or expired.",
    "code": "UNAUTHENTICATED",
}
PROBLEM_404 = {**PROBLEM_401, "type": "/problems/route-not-found", "title": "Not Found", "status": 404}
ANSWERS: list[tuple[int, str, dict[str, Any], str]] = [
    (401, "application/json", {"message": "Unauthorized"}, "GatewayMessage"),
    (401, "application/problem+json", PROBLEM_401, "Problem"),
    (404, "application/problem+json", {**PROBLEM_404, "code": "ROUTE_NOT_FOUND"}, "Problem"),
]


def generate(document: Path, into: Path) -> None:
    config = into / "config.yaml"
    config.write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run(  # noqa: S603 (the generator of this venv, on our own document)
        [str(generator), "generate", "--path", str(document), "--meta", "none", "--config", str(config)],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )


def operations() -> list[Any]:
    api = importlib.import_module(f"{PACKAGE}.api")
    found = []
    for tag in pkgutil.iter_modules(api.__path__):
        group = importlib.import_module(f"{PACKAGE}.api.{tag.name}")
        found += [importlib.import_module(f"{group.__name__}.{op.name}") for op in pkgutil.iter_modules(group.__path__)]
    return found


def parse_answers(document: dict[str, Any]) -> tuple[int, list[str]]:
    """How many answers were handed to the generated operations, and those they could not parse."""
    # The generator's venv has httpx (the generated client's HTTP library); the application's has not.
    httpx = importlib.import_module("httpx")
    client = importlib.import_module(PACKAGE).Client(base_url="http://127.0.0.1", raise_on_unexpected_status=True)
    listed = {
        _snake(operation["operationId"]): set(operation["responses"])
        for item in document["paths"].values()
        for operation in item.values()
    }
    problems, tried = [], 0
    for module in operations():
        statuses = listed[module.__name__.rsplit(".", 1)[1]]
        for status, media_type, body, expected in ANSWERS:
            if str(status) not in statuses:
                continue
            request = httpx.Request("GET", "http://127.0.0.1/")
            response = httpx.Response(status, json=body, headers={"content-type": media_type}, request=request)
            tried += 1
            try:
                parsed = module._build_response(client=client, response=response).parsed
            except Exception as error:
                problems.append(f"{module.__name__} {status} {media_type}: {type(error).__name__}: {error}")
                continue
            if type(parsed).__name__ != expected:
                problems.append(f"{module.__name__} {status} {media_type}: parsed as {type(parsed).__name__}")
    if not tried:
        problems.append("no operation lists a 401 or a 404: nothing was checked")
    return tried, problems


def _snake(operation_id: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation_id).lstrip("_")


def main(document_path: str) -> int:
    document = Path(document_path).resolve()
    with tempfile.TemporaryDirectory() as folder:
        generate(document, Path(folder))
        sys.path.insert(0, folder)
        tried, problems = parse_answers(json.loads(document.read_text()))
    for problem in problems:
        print(f"generated client: {problem}", file=sys.stderr)
    print(
        f"generated client: {tried - len(problems)} of {tried} answers parsed (401s of API Gateway and handlers, 404s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
