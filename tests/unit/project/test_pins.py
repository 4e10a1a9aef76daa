"""One source of pins: what the Lambda layer and the authorizer ship is what the tests run with.

pyproject.toml pins the runtime dependencies the tests install; shared/layer/requirements.txt and
functions/authorizer/requirements.txt are what `sam build` ships. A pin changed in one place only
would test one version and deploy another.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = (ROOT / "shared/layer/requirements.txt", ROOT / "functions/authorizer/requirements.txt")


def pins(lines: list[str]) -> dict[str, str]:
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {requirement.name.lower(): str(requirement.specifier) for requirement in requirements}


def test_every_shipped_requirement_is_pinned_exactly_as_the_tests_install_it() -> None:
    tested = pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    for requirements in SHIPPED:
        shipped = pins(requirements.read_text().splitlines())
        assert shipped, requirements
        for name, specifier in shipped.items():
            assert specifier.startswith("=="), f"{requirements.name}: {name} is not pinned exactly"
            assert tested.get(name) == specifier, f"{requirements.relative_to(ROOT)} pins {name}{specifier}"
