"""The ``figures`` fixture's type (tests/reliability/conftest.py), for the tests that report figures."""

from __future__ import annotations

from collections.abc import Callable

Figures = Callable[..., None]
