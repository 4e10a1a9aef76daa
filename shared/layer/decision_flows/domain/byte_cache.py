"""Text kept in a function instance's memory within a byte budget, least recently used first out:
version configs, and the runtime read path's finished response bodies. Standard library only."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

# What one instance keeps (Lambda's 512 MB leaves room for many 300 KB configs and their answers).
CACHE_BYTES = 64 * 1024 * 1024


class ByteBoundedCache[K: Hashable]:
    """Strings by key; their UTF-8 sizes together stay within ``max_bytes``."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._texts: OrderedDict[K, str] = OrderedDict()
        self._sizes: dict[K, int] = {}

    def get(self, key: K) -> str | None:
        text = self._texts.get(key)
        if text is not None:
            self._texts.move_to_end(key)
        return text

    def put(self, key: K, text: str) -> None:
        size = len(text.encode())  # bytes, not characters: a config may be mostly 4-byte characters
        if key in self._texts or size > self._max_bytes:
            return
        self._texts[key] = text
        self._sizes[key] = size
        self._bytes += size
        while self._bytes > self._max_bytes:
            dropped, _ = self._texts.popitem(last=False)
            self._bytes -= self._sizes.pop(dropped)
