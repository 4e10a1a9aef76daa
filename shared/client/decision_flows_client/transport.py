"""One GET over HTTP with urllib: the status, headers and body the service answered, whatever the
status, or a TransportError when no answer came (timeout, refused connection, DNS, TLS)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class TransportError(Exception):
    """No HTTP answer: the reason is the message."""


Transport = Callable[[str, Mapping[str, str], float], Reply]


def urllib_get(url: str, headers: Mapping[str, str], timeout: float) -> Reply:
    request = urllib.request.Request(url, headers=dict(headers), method="GET")  # noqa: S310 (the caller's base URL)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Reply(response.status, _headers(response.headers), response.read())
    except urllib.error.HTTPError as error:  # urllib raises for every status but 2xx, 304 included
        with error:
            return Reply(error.code, _headers(error.headers), error.read())
    except (OSError, http.client.HTTPException) as error:  # URLError and TimeoutError are OSErrors
        raise TransportError(f"{type(error).__name__}: {error}") from error


def _headers(message: object) -> dict[str, str]:
    """Header names lower-cased, so that lookups need not care how the server spelled them."""
    items = getattr(message, "items", None)
    return {name.lower(): value for name, value in items()} if items else {}
