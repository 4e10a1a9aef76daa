"""Fixtures of the tests that drive the handlers in-process."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.schedulers import Clock, services_clock


@pytest.fixture
def clock(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Clock:
    return services_clock(monkeypatch)
