"""The process around the overhead benchmark's timed calls: garbage collection and logging as a
Lambda process would have them."""

from __future__ import annotations

import gc
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Move everything allocated so far (the store and its seeded items, the imported code) out of
    the collector's way, as a Lambda process carries no such heap."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def collections_paused(paused: bool) -> Iterator[None]:
    """With ``paused``, no collection inside a timed call; the ones it defers run in the next gap."""
    if not paused:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class CountingSink(io.TextIOBase):
    """Where the handlers' log lines go: counted, then dropped."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


@contextmanager
def silenced_logs() -> Iterator[CountingSink]:
    """Keep the production logging (Powertools Logger at the template's LOG_LEVEL, INFO), writing to
    a sink that counts lines: at INFO these routes log nothing when they succeed, so the baseline
    logs nothing either, and the count shows it."""
    from decision_flows.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    sink = CountingSink()
    previous = handler.setStream(sink)
    try:
        yield sink
    finally:
        handler.setStream(previous)
