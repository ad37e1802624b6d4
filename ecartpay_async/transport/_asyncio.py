"""The fast default transport on asyncio: HTTP/1.1 over asyncio Protocols, no task per request.

An ``httpx.AsyncBaseTransport``: it takes an ``httpx.Request`` and answers an
``httpx.Response`` whose body is already read (a ``ByteStream``; ``aread()`` decodes
any ``Content-Encoding``), raising httpx's own exceptions. Per request it writes the
bytes httpx already holds (request line, ``headers.raw``, body) on a pooled
connection and waits on one future, resolved by the connection's parser: no stream
objects, no per-request task, no per-request header re-parsing, and a pool whose cost
does not grow with its size. The numbers that chose it are in ``benchmarks/README.md``.

asyncio only (trio users get httpx's transport from :class:`AutoTransport`); HTTP/1.1
only; proxies are not used (as with ``httpx.AsyncHTTPTransport`` itself, proxies are
the client's business). ``Limits`` and the request's ``timeout`` extension mean what
they mean in httpx, except ``write``, which is not enforced (a payout fits in the
socket buffer).
"""

from __future__ import annotations

import asyncio

import httpx

from ._config import ConfiguredTransport
from ._h1 import serialize
from ._pool import Origin, Pool

__all__ = ["AsyncioTransport"]

_PORTS = {b"http": 80, b"https": 443}


class AsyncioTransport(ConfiguredTransport):
    """Send httpx requests over pooled asyncio connections (HTTP/1.1)."""

    _pool: Pool | None = None

    def _open(self) -> Pool:
        if self._closed:
            raise RuntimeError("the transport is closed")
        pool = self._pool
        if pool is not None:
            raise RuntimeError("an AsyncioTransport cannot move to another event loop")
        pool = self._pool = Pool(self._limits, self._verify)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool = self._pool
        if pool is None or pool.loop is not asyncio.get_running_loop():
            pool = self._open()
        url = request.url
        scheme = url.raw_scheme
        port = url.port or _PORTS.get(scheme)
        if port is None:
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {url.scheme!r}", request=request
            )
        origin: Origin = (scheme, url.host, port)
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await _read_whole(request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            connection = await pool.acquire(origin, timeouts)
            try:
                # Serialized in the call, never a local: the bytes carry the Authorization
                # header, and error trackers record the locals of a failing frame.
                answer = await connection.exchange(
                    serialize(request, body), request.method, timeouts.get("read")
                )
            finally:
                pool.release(origin, connection)
        except httpx.TransportError as exc:
            exc.request = request
            raise
        body = answer.body
        response = httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(body),
            request=request,
            extensions={"http_version": answer.version, "reason_phrase": answer.reason},
        )
        if "content-encoding" not in response.headers:
            # Nothing to decode: the body is the content. Setting it spares aread() its
            # decoder and chunker machinery (~8 % of a payout's CPU); httpx's own
            # Response.read() stores the content in this same attribute.
            response._content = body
        return response

    async def aclose(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


async def _read_whole(request: httpx.Request) -> bytes:
    """A streamed body, read whole and sent with a Content-Length instead of chunks."""
    body = await request.aread()
    del request.headers["transfer-encoding"]
    request.headers["content-length"] = str(len(body))
    return body
