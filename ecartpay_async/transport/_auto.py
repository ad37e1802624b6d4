"""The SDK's default transport: its own asyncio HTTP/1.1 transport on asyncio, httpx's elsewhere.

The choice is made at the first request, from the event loop actually running
(``sniffio``), never at import: under trio requests go through
``httpx.AsyncHTTPTransport``, and nothing asyncio-specific is used.
``prefer="aiohttp"`` picks :class:`AiohttpTransport` on asyncio instead (needs the
``fast`` extra); ``prefer="httpx"`` always uses httpx's transport.
"""

from __future__ import annotations

import ssl
from typing import Literal

import httpx
import sniffio

from ._config import DEFAULT_LIMITS

__all__ = ["AutoTransport", "Preference", "on_asyncio"]

Preference = Literal["auto", "aiohttp", "httpx"]


def on_asyncio() -> bool:
    """True when the running event loop is asyncio's."""
    try:
        return sniffio.current_async_library() == "asyncio"
    except sniffio.AsyncLibraryNotFoundError:
        return False


class AutoTransport(httpx.AsyncBaseTransport):
    """Delegate to the fastest transport that can run here, picked at first use."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
        prefer: Preference = "auto",
    ) -> None:
        if prefer not in ("auto", "aiohttp", "httpx"):
            raise ValueError(f"prefer must be 'auto', 'aiohttp' or 'httpx', not {prefer!r}")
        self._limits = limits
        self._verify = verify
        self._prefer = prefer
        self._inner: httpx.AsyncBaseTransport | None = None

    @property
    def chosen(self) -> httpx.AsyncBaseTransport | None:
        """The transport in use, once a request has been sent."""
        return self._inner

    def _choose(self) -> httpx.AsyncBaseTransport:
        # Imported here, not at the top: importing the SDK must not pay for asyncio.
        if self._prefer != "httpx" and on_asyncio():
            if self._prefer == "aiohttp":
                from ._aiohttp import AiohttpTransport

                return AiohttpTransport(limits=self._limits, verify=self._verify)
            from ._asyncio import AsyncioTransport

            return AsyncioTransport(limits=self._limits, verify=self._verify)
        return httpx.AsyncHTTPTransport(limits=self._limits, verify=self._verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._inner
        if inner is None:
            inner = self._inner = self._choose()
        try:
            response = await inner.handle_async_request(request)
        except httpx.TransportError as exc:
            exc.request = request  # httpx's transport leaves that to AsyncClient
            raise
        response.request = request
        return response

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
