"""Objects built once per Lambda execution environment, on first use, and forgotten together: the
builders of ``wiring`` and ``runtime_wiring`` (and of other modules, such as web.idempotency's runner)
register here, so that one ``forget_all()`` resets them all (tests and the local server switch stores)."""

from __future__ import annotations

from collections.abc import Callable
from functools import _lru_cache_wrapper, cache

_BUILT: list[_lru_cache_wrapper[object]] = []


def built_once[T](build: Callable[[], T]) -> _lru_cache_wrapper[T]:
    """Build on first call, then answer the same object until ``forget_all()``."""
    cached = cache(build)
    _BUILT.append(cached)
    return cached


def forget_all() -> None:
    for built in _BUILT:
        built.cache_clear()
