"""The SDK's default transport: aiohttp on asyncio when it is installed, httpx's own otherwise.

The choice is made at the first request, from the event loop actually running
(``sniffio``), never at import: under trio, or without the ``fast`` extra, requests
go through ``httpx.AsyncHTTPTransport`` and nothing from aiohttp is imported.
"""

from __future__ import annotations

import importlib.util
import ssl

import httpx
import sniffio

from ._aiohttp import AiohttpTransport

__all__ = ["AutoTransport", "aiohttp_usable"]


def aiohttp_usable() -> bool:
    """True when running on asyncio and aiohttp can be imported."""
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return False
    return library == "asyncio" and importlib.util.find_spec("aiohttp") is not None


class AutoTransport(httpx.AsyncBaseTransport):
    """Delegate to the fastest transport that can run here, picked at first use."""

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: ssl.SSLContext | bool = True,
        prefer: str = "auto",
    ) -> None:
        if prefer not in ("auto", "aiohttp", "httpx"):
            raise ValueError(f"prefer must be 'auto', 'aiohttp' or 'httpx', not {prefer!r}")
        self._limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._verify = verify
        self._prefer = prefer
        self._inner: httpx.AsyncBaseTransport | None = None

    @property
    def chosen(self) -> str | None:
        """``"aiohttp"`` or ``"httpx"`` once a request has been sent, else None."""
        if self._inner is None:
            return None
        return "aiohttp" if isinstance(self._inner, AiohttpTransport) else "httpx"

    def _choose(self) -> httpx.AsyncBaseTransport:
        if self._prefer == "aiohttp" or (self._prefer == "auto" and aiohttp_usable()):
            return AiohttpTransport(limits=self._limits, verify=self._verify)
        return httpx.AsyncHTTPTransport(limits=self._limits, verify=self._verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._inner
        if inner is None:
            inner = self._inner = self._choose()
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
