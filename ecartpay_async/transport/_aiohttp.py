"""An httpx transport that sends through an ``aiohttp.ClientSession`` (asyncio only).

httpx stays the interface: the transport takes an ``httpx.Request`` and answers an
``httpx.Response`` whose body streams from aiohttp (so the SDK can stop reading at
``max_response_bytes``), with aiohttp's errors translated (:mod:`._errors`). What it
saves is httpcore's pool, whose CPU cost grows with the number of connections: at 64
connections it costs several times a whole aiohttp request (``benchmarks/README.md``).
The SDK's own stack uses it for requests that go through a proxy (routed per proxy by
:class:`AutoTransport`); direct requests take the direct lane (:mod:`._direct`), which
skips httpx's objects altogether. Either way aiohttp never resends on its own
(:func:`._errors.RESEND_GUARD`).

The conversion is kept lean: request headers go across as httpx already holds them
(aiohttp adds none of its own: httpx set Host, Accept, Accept-Encoding, User-Agent
and Content-Length), response headers come back as aiohttp's raw byte pairs, and
the body is left encoded for httpx to decode, so ``Content-Encoding`` stays true.

Limits follow ``httpx.Limits``: ``max_connections`` bounds the requests in flight
(the transport's own limiter, which raises ``httpx.PoolTimeout`` after the
request's ``pool`` timeout; a slot is held until the answer's body is closed),
``keepalive_expiry`` closes idle connections. Timeouts follow the request's
``timeout`` extension: ``connect`` bounds the TCP and TLS handshake, ``read`` each
wait for data; httpx's ``write`` has no aiohttp counterpart (a payout body fits in
the socket buffer). ``proxy`` sends through an HTTP proxy (``CONNECT`` for https
targets, absolute URIs for http ones), as aiohttp does it.

aiohttp is imported on first use, so importing the SDK does not pay for it.
"""

from __future__ import annotations

import asyncio
import base64
import select
import traceback
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from ._config import DEFAULT_LIMITS, Verify, ssl_context
from ._errors import RESEND_GUARD, to_httpx_error

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport"]

_CHUNK = 64 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests over one lazily opened ``aiohttp.ClientSession``."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: Verify = True,
        proxy: httpx.Proxy | None = None,
    ) -> None:
        self._limits = limits
        self._verify = verify
        self._proxy = proxy
        self._closed = False
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._proxy_options: dict[str, Any] = {}
        self._forward_headers: list[tuple[str, str]] = []

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._closed:
            raise RuntimeError("the transport is closed")
        loop = asyncio.get_running_loop()
        keepalive = self._limits.keepalive_expiry
        connector = aiohttp.TCPConnector(
            limit=0,  # the transport's own limiter bounds the connections
            keepalive_timeout=DEFAULT_LIMITS.keepalive_expiry if keepalive is None else keepalive,
            ssl=ssl_context(self._verify),
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # cookies are httpx.AsyncClient's job
            auto_decompress=False,  # httpx decodes, as Content-Encoding says
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,  # the SDK resolved proxies already (TransportConfig)
            requote_redirect_url=False,
        )
        proxy = self._proxy
        if proxy is not None:
            headers = dict(proxy.headers)
            if proxy.auth is not None:
                pair = base64.b64encode(":".join(proxy.auth).encode()).decode("ascii")
                headers["Proxy-Authorization"] = f"Basic {pair}"
            # aiohttp sends proxy_headers on a CONNECT only; a forwarded (http://)
            # request carries them itself (see _send).
            self._proxy_options = {"proxy": _url(proxy.url), "proxy_headers": headers or None}
            self._forward_headers = list(headers.items())
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
            return await self._send(session, request, timeouts, slots)
        except BaseException:
            if slots is not None:
                slots.release()
            raise

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
        slots: asyncio.Semaphore | None,
    ) -> httpx.Response:
        body = await self._body(request)
        headers = request.headers
        if "transfer-encoding" in headers:  # a streamed body, now read whole
            headers = headers.copy()
            del headers["transfer-encoding"]
            headers["content-length"] = str(len(body))
        forward = self._forward_headers if request.url.scheme == "http" else []
        try:
            response = await session.request(
                request.method,
                _url(request.url),
                data=body or None,
                # Built in the call, never held in a local of this frame: the list
                # carries the Authorization header in plain text (httpx.Headers'
                # repr redacts it), and error trackers record frame locals.
                headers=[*headers.multi_items(), *forward],
                allow_redirects=False,
                timeout=self._timeout(timeouts),
                # aiohttp would resend a GET or PUT on its own after a reused connection
                # failed; only the SDK's retry loop may resend (see _errors.RESEND_GUARD).
                middlewares=RESEND_GUARD.get(request.method),
                **self._proxy_options,
            )
        except Exception as exc:
            # aiohttp's finished frames hold the request's headers in their locals;
            # clear them so that no error tracker finds the credentials there.
            traceback.clear_frames(exc.__traceback__)
            raise _translated(exc, request) from exc
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request, slots),
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


class _Body(httpx.AsyncByteStream):
    """An aiohttp answer's body as httpx reads it; closing it frees the connection slot."""

    def __init__(
        self, response: Any, request: httpx.Request, slots: asyncio.Semaphore | None
    ) -> None:
        self._response = response
        self._request = request
        self._slots = slots
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk
        except Exception as exc:
            raise _translated(exc, self._request) from exc
        self._done = True

    async def aclose(self) -> None:
        slots, self._slots = self._slots, None
        if slots is None:
            return  # closed already
        try:
            if self._done and not closed_by_peer(self._response):
                self._response.release()  # whole: the connection goes back to the pool
            else:
                self._response.close()  # cut short or closed: it cannot be reused
        finally:
            slots.release()


def closed_by_peer(response: Any) -> bool:
    """Whether the server already closed (or wrote more on) a connection that just
    delivered a whole answer: a readable idle socket. httpcore makes the same check
    before reusing a connection; pooling it would have the next request written
    into a closed socket, where it may or may not have been read."""
    connection = response.connection
    transport = None if connection is None else connection.transport
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):  # no FD_SETSIZE limit, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed meanwhile
        return True
    return bool(readable)


def _translated(exc: Exception, request: httpx.Request) -> Exception:
    error = to_httpx_error(exc, request)
    return exc if error is None else error


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
