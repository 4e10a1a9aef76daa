"""Fixtures of the tests that drive the handlers in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from decision_flows import wiring
from tests.support.schedulers import Clock


@pytest.fixture
def clock(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The change and schedule services' clock (the flow service keeps the real one)."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(wiring.change_service(), "_clock", clock)
    monkeypatch.setattr(wiring.schedule_service(), "_clock", clock)
    return clock
