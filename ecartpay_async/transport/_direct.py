"""The direct lane: the SDK's own aiohttp session, driven without any httpx object.

On the default path (asyncio, no ``http_client=`` or ``transport=``, no proxy for the
API's origin) the pipeline's attempt goes straight to ``aiohttp.ClientSession.request``:
no ``httpx.Request``, no ``httpx.Response``, no header or URL conversion. What the
httpx path guarantees holds here too, each by aiohttp's own means:

- **One deadline per attempt**: ``ClientTimeout(total=...)``, the largest timeout
  phase, from waiting for a connection to the answer's last byte (aiohttp keeps that
  timer armed while the body is read); ``connect`` bounds the wait for a connection
  and the handshake. No second timer runs beside it.
- **Size**: a ``Content-Length`` over ``max_response_bytes`` fails before reading; the
  body is read in chunks and reading stops as soon as it passes the limit; a gzip or
  deflate body is inflated in bounded steps (aiohttp's own decompression is off).
- **CA policy**: the client's one ``ssl.SSLContext`` (:class:`TransportConfig`).
- **No resend below the SDK** (:data:`._errors.RESEND_GUARD`), a connection retired when
  its answer was cut short or its peer closed it, failures translated by the one table
  (:func:`._errors.to_httpx_error`): "never sent" from the exception's class.

Requests that go through a proxy take the httpx-interface path (:class:`AutoTransport`),
which routes per proxy.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from ._aiohttp import closed_by_peer
from ._bounds import deadline_of, read_capped
from ._config import TransportConfig
from ._errors import RESEND_GUARD, to_httpx_error
from ._exceptions import ResponseTooLarge
from ._reply import WholeReply
from ._sender import Params, ParsedURLs, Reply, SecretText

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpSender"]

_CHUNK = 64 * 1024


class AiohttpSender:
    """Send the pipeline's attempts over one lazily opened ``aiohttp.ClientSession``."""

    def __init__(self, config: TransportConfig, *, max_response_bytes: int) -> None:
        self.config = config
        self.max_response_bytes = max_response_bytes
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._urls = ParsedURLs(_yarl_url)
        self._last: tuple[object, aiohttp.ClientTimeout | None] = (None, None)

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._closed:
            raise RuntimeError("the transport is closed")
        limits = self.config.limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry or 4.0,
            ssl=self.config.ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # inflated here, within max_response_bytes
            trust_env=False,  # proxies are the SDK's choice (TransportConfig)
            requote_redirect_url=False,
        )
        self._loop = asyncio.get_running_loop()
        return self._session

    def _timeout(self, timeouts: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeouts.get("connect"), timeouts.get("read"), timeouts.get("pool"),
               timeouts.get("write"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = _client_timeout(timeouts)
        self._last = (timeouts, timeout)
        return timeout

    async def send(
        self,
        method: str,
        url: str,
        params: Params | None,
        headers: dict[str, str],
        authorization: SecretText,
        content: bytes | None,
        timeouts: dict[str, float | None],
    ) -> Reply:
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop():
            if session is not None:
                raise RuntimeError("the SDK's aiohttp session cannot move to another event loop")
            session = self._open()
        last_phases, timeout = self._last
        if timeouts is not last_phases or timeout is None:  # else the last one (the usual)
            timeout = self._timeout(timeouts)
        try:
            response = await session.request(
                method,
                self._urls[url],
                params=params or None,
                # Built in the call, never held in a local of this frame: the dict
                # carries the Authorization header in plain text, and error trackers
                # record frame locals.
                headers={**headers, "Authorization": authorization.get()},
                data=content,
                allow_redirects=False,
                timeout=timeout,
                # aiohttp would resend a GET or PUT itself; only the SDK's retry loop may.
                middlewares=RESEND_GUARD.get(method),
            )
        except Exception as exc:
            # aiohttp's finished frames hold the request's headers in their locals.
            traceback.clear_frames(exc.__traceback__)
            raise _translated(exc) from exc
        answered: Mapping[str, str] = response.headers
        whole = False
        try:
            limit = self.max_response_bytes
            length = response.content_length
            encoding = answered.get("content-encoding", "").strip().lower()
            if encoding in ("", "identity") and length is not None:
                if length > limit:
                    raise ResponseTooLarge(limit, response.status)
                # aiohttp reads exactly Content-Length bytes: already within the bound.
                body: bytes = await response.read()
            else:
                body = await read_capped(
                    response.content.iter_chunked(_CHUNK), encoding, limit, response.status
                )
            whole = True
        except Exception as exc:
            traceback.clear_frames(exc.__traceback__)
            raise _translated(exc) from exc
        finally:
            if whole and not closed_by_peer(response):
                response.release()  # read whole: the connection goes back to the pool
            else:
                response.close()  # cut short or closed by its peer: never reused
        if "content-encoding" in answered:  # decoded: the headers describe the body
            decoded = response.headers.copy()
            del decoded["content-encoding"]
            decoded.popall("content-length", None)
            answered = decoded
        return WholeReply(response.status, response.reason or "", answered, body)

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _yarl_url(url: str) -> Any:
    import yarl  # aiohttp's URL type, imported with aiohttp at the first request

    return yarl.URL(url)


def _client_timeout(timeouts: dict[str, float | None]) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for httpx's phases: the largest phase is the attempt's one
    deadline (``total``); ``connect`` bounds the handshake, and with ``pool`` the wait
    for a connection; a ``read`` phase shorter than the deadline, set on purpose,
    still bounds each wait for data (else no per-read timer runs at all)."""
    import aiohttp

    total = deadline_of(timeouts)
    connect, pool, read = timeouts.get("connect"), timeouts.get("pool"), timeouts.get("read")
    return aiohttp.ClientTimeout(
        total=total,
        connect=None if pool is None or connect is None else pool + connect,
        sock_connect=connect,
        sock_read=read if read is not None and total is not None and read < total else None,
    )


def _translated(exc: Exception) -> Exception:
    if isinstance(exc, (httpx.TransportError, httpx.DecodingError)):
        return exc  # raised here (size, decoding)
    error = to_httpx_error(exc, None)
    return exc if error is None else error
