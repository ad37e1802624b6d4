"""An httpx transport that sends through an ``aiohttp.ClientSession`` (asyncio only).

httpx stays the interface: the transport takes an ``httpx.Request`` and answers an
``httpx.Response`` whose body is already read (a ``ByteStream``), with aiohttp's
errors translated (:mod:`._errors`). What it saves is httpcore's pool, whose CPU
cost grows with the number of connections: at 64 connections it costs several
times a whole aiohttp request (see ``benchmarks/README.md``).

The conversion is kept lean: request headers go across as httpx already holds them
(aiohttp adds none of its own: httpx set Host, Accept, Accept-Encoding, User-Agent
and Content-Length), response headers come back as aiohttp's raw byte pairs, and
the body is left encoded for httpx to decode, so ``Content-Encoding`` stays true.

Limits follow ``httpx.Limits``: ``max_connections`` bounds the requests in flight
(the transport's own limiter, which raises ``httpx.PoolTimeout`` after the
request's ``pool`` timeout), ``keepalive_expiry`` closes idle connections.
Timeouts follow the request's ``timeout`` extension: ``connect`` bounds the TCP and
TLS handshake, ``read`` each wait for data; httpx's ``write`` has no aiohttp
counterpart (a payout body fits in the socket buffer).

aiohttp is imported on first use, so importing the SDK does not pay for it.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

import httpx

from ._config import DEFAULT_LIMITS, ConfiguredTransport, ssl_context
from ._errors import to_httpx_error

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport"]

class AiohttpTransport(ConfiguredTransport):
    """Send httpx requests over one lazily opened ``aiohttp.ClientSession``."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        super().__init__(limits=limits, verify=verify)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._closed:
            raise RuntimeError("the transport is closed")
        loop = asyncio.get_running_loop()
        keepalive = self._limits.keepalive_expiry
        connector = aiohttp.TCPConnector(
            limit=0,  # the transport's own limiter bounds the connections
            keepalive_timeout=15.0 if keepalive is None else keepalive,
            ssl=ssl_context(self._verify),
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # cookies are httpx.AsyncClient's job
            auto_decompress=False,  # httpx decodes, as Content-Encoding says
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
            requote_redirect_url=False,
        )
        if self._limits.max_connections is not None:
            self._slots = asyncio.Semaphore(self._limits.max_connections)
        self._session, self._loop = session, loop
        return session

    def _timeout(self, timeouts: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeouts.get("connect"), timeouts.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=None, sock_connect=key[0], sock_read=key[1])
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop():
            if session is not None:
                raise RuntimeError("an AiohttpTransport cannot move to another event loop")
            session = self._open()
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        slots = self._slots
        if slots is not None:
            await self._acquire(slots, timeouts.get("pool"), request)
        try:
            return await self._send(session, request, timeouts)
        finally:
            if slots is not None:
                slots.release()

    async def _acquire(
        self, slots: asyncio.Semaphore, timeout: float | None, request: httpx.Request
    ) -> None:
        if not slots.locked():
            await slots.acquire()  # free slot: returns at once
            return
        try:
            await asyncio.wait_for(slots.acquire(), timeout)
        except asyncio.TimeoutError:
            raise httpx.PoolTimeout("timed out waiting for a connection", request=request) from None

    async def _send(
        self,
        session: aiohttp.ClientSession,
        request: httpx.Request,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        body = await self._body(request)
        headers = request.headers
        if "transfer-encoding" in headers:  # a streamed body, now read whole
            headers = headers.copy()
            del headers["transfer-encoding"]
            headers["content-length"] = str(len(body))
        try:
            response = await session.request(
                request.method,
                _url(request.url),
                data=body or None,
                headers=headers.multi_items(),
                allow_redirects=False,
                timeout=self._timeout(timeouts),
            )
            try:
                content = await response.read()
            finally:
                response.release()
        except Exception as exc:
            error = to_httpx_error(exc, request)
            if error is None:
                raise
            raise error from exc
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=httpx.ByteStream(content),
            request=request,
            extensions=_extensions(response),
        )

    @staticmethod
    async def _body(request: httpx.Request) -> bytes:
        try:
            return request.content
        except httpx.RequestNotRead:
            return await request.aread()

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _url(url: httpx.URL) -> Any:
    import yarl

    # httpx already percent-encoded the URL: tell yarl not to encode it again.
    return yarl.URL(str(url), encoded=True)


def _extensions(response: Any) -> dict[str, Any]:
    version = response.version
    return {
        "http_version": b"HTTP/%d.%d" % (version.major, version.minor) if version else b"HTTP/1.1",
        "reason_phrase": (response.reason or "").encode("ascii", "replace"),
    }
