"""What `sam build` made: each function's deployment size, and a check that it ships bytecode.

Sizes as Lambda counts them: a function's code plus its layers, zipped (what is uploaded) and
unzipped (Lambda's limit is 250 MB for both together). The check (`python -m bench.artifacts
--check`, run by `make build`) fails when a module of the layer or the authorizer has no
unchecked-hash .pyc beside it: without one, Lambda compiles it on every cold start (read-only /opt).
"""

from __future__ import annotations

import io
import sys
import zipfile
from functools import cache
from pathlib import Path

from bench.lambda_runtime import BUILD
from decision_flows_local import template

MB = 1024 * 1024


@cache
def measured(folder: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes of a folder, zipped as `sam deploy` does (deflate)."""
    unzipped = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                unzipped += path.stat().st_size
                archive.write(path, path.relative_to(folder))
    return buffer.tell(), unzipped


def layers_of(function: str) -> list[str]:
    spec = template.resources("AWS::Serverless::Function")[function]["Properties"]
    return [layer["Ref"] for layer in spec.get("Layers", [])]


def deployment_sizes(functions: list[str]) -> dict[str, dict[str, float]]:
    sizes = {}
    for function in functions:
        parts = [BUILD / function, *(BUILD / layer for layer in layers_of(function))]
        zipped, unzipped = (sum(pair) for pair in zip(*(measured(part) for part in parts), strict=True))
        code_zipped, _ = measured(BUILD / function)
        sizes[function] = {
            "code_zip_kb": round(code_zipped / 1024, 1),
            "zip_mb": round(zipped / MB, 2),
            "unzipped_mb": round(unzipped / MB, 2),
        }
    return sizes


# Folders whose modules must ship compiled (shared/layer/Makefile, functions/authorizer/Makefile).
COMPILED = ("SharedLayer", "AuthorizerFunction")
# PEP 552: a .pyc's flags word; 0b01 is hash-based and not checked against its source.
UNCHECKED_HASH = 0b01


def runtime_cache_tag() -> str:
    """The bytecode tag of template.yaml's Runtime (python3.13 → cpython-313): a .pyc made by
    another Python is ignored by Lambda's, whatever interpreter runs this check."""
    runtime: str = template.template()["Globals"]["Function"]["Runtime"]
    return "cpython-" + runtime.removeprefix("python").replace(".", "")


def modules_without_bytecode(folder: Path, cache_tag: str) -> list[Path]:
    missing = []
    for source in folder.rglob("*.py"):
        compiled = source.parent / "__pycache__" / f"{source.stem}.{cache_tag}.pyc"
        if not compiled.exists() or int.from_bytes(compiled.read_bytes()[4:8], "little") != UNCHECKED_HASH:
            missing.append(source)
    return missing


def check_bytecode() -> int:
    tag = runtime_cache_tag()
    missing = [path for name in COMPILED for path in modules_without_bytecode(BUILD / name, tag)]
    for path in missing[:20]:
        print(f"no unchecked-hash bytecode: {path.relative_to(BUILD)}")
    if missing:
        print(f"{len(missing)} modules would be compiled on every cold start; see shared/layer/Makefile")
        return 1
    # The API functions' own app.py (one small module each) ship as source, as SAM builds them.
    print(f"bytecode: every module of {', '.join(COMPILED)} ships an unchecked-hash {tag} .pyc")
    return 0


if __name__ == "__main__":
    sys.exit(check_bytecode() if sys.argv[1:] == ["--check"] else 2)
