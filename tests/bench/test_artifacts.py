"""The build check that keeps bytecode in the layer (`make build` runs `python -m bench.artifacts --check`)."""

from __future__ import annotations

import py_compile
import sys
from pathlib import Path

from bench.artifacts import modules_without_bytecode, runtime_cache_tag


def test_a_module_counts_as_shipped_only_with_an_unchecked_hash_pyc(tmp_path: Path) -> None:
    # Given a module with no bytecode, one compiled the default way (checked against its mtime)
    # and one compiled unchecked-hash, as shared/layer/Makefile compiles the layer
    for name in ("bare", "timestamped", "shipped"):
        (tmp_path / f"{name}.py").write_text("VALUE = 1\n")
    py_compile.compile(str(tmp_path / "timestamped.py"))
    py_compile.compile(str(tmp_path / "shipped.py"), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)

    # When the check looks at the folder
    missing = {path.name for path in modules_without_bytecode(tmp_path, sys.implementation.cache_tag)}

    # Then only the unchecked-hash module passes: Lambda cannot write a cache, and a zip keeps
    # modification times to 2 s, so the other two would be compiled on every cold start
    assert missing == {"bare.py", "timestamped.py"}


def test_bytecode_is_checked_for_the_runtime_of_the_template(tmp_path: Path) -> None:
    # Given a module compiled unchecked-hash by this interpreter
    (tmp_path / "shipped.py").write_text("VALUE = 1\n")
    py_compile.compile(str(tmp_path / "shipped.py"), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)

    # Then it counts for template.yaml's runtime (python3.13, as this interpreter), and not for another
    assert runtime_cache_tag() == "cpython-313"
    assert modules_without_bytecode(tmp_path, runtime_cache_tag()) == []
    assert [path.name for path in modules_without_bytecode(tmp_path, "cpython-314")] == ["shipped.py"]
