"""What the two HTTP explainers share: the async client's lifecycle and response errors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class BadResponse(ValueError):
    """The provider answered 2xx but not with the expected JSON shape (or with no text)."""


class ClientHolder:
    """One httpx.AsyncClient per event loop, created on first use.

    Why per loop: an AsyncClient's pooled connections belong to the loop that opened them;
    reused from another loop (scripts that call asyncio.run more than once, test loops) they
    fail with a transport error, which would silently turn every explanation into a
    fallback. An injected client is used as is and never closed here.
    """

    def __init__(self, timeout_s: float, client: httpx.AsyncClient | None = None) -> None:
        self._timeout_s = timeout_s
        self._injected = client
        self._own: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        if self._injected is not None:
            return self._injected
        loop = asyncio.get_running_loop()
        if self._own is None or self._own.is_closed or self._loop is not loop:
            # The old client belongs to a finished (or other) loop: dropped, not awaited.
            self._own = httpx.AsyncClient(timeout=self._timeout_s)
            self._loop = loop
        return self._own

    async def aclose(self) -> None:
        if self._own is not None and self._loop is asyncio.get_running_loop():
            await self._own.aclose()
        self._own = None
        self._loop = None


def json_body(resp: httpx.Response) -> Any:
    """The response JSON, after raising httpx.HTTPStatusError for a non-2xx status."""
    resp.raise_for_status()
    try:
        return resp.json()
    except ValueError as exc:
        raise BadResponse("response is not JSON") from exc


def text_or_raise(value: Any) -> str:
    """A non-empty answer string, stripped; anything else is a BadResponse."""
    if not isinstance(value, str) or not value.strip():
        raise BadResponse("no answer text in the response")
    return value.strip()
