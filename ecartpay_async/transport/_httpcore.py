"""The trio lane: httpx's own engine (httpcore), driven without any httpx object.

On the default path away from asyncio (trio; no ``http_client=`` or ``transport=``,
no proxy for the API's origin, ``prefer`` not ``"httpx"``) the pipeline's attempt goes
straight to ``httpcore.AsyncConnectionPool`` (in :class:`~._httpx.Shards`): the same
connections, HTTP/1.1 and TLS that ``httpx.AsyncHTTPTransport`` would use, without
building an ``httpx.Request`` and an ``httpx.Response`` around them. What the httpx
path guarantees holds here too:

- **One deadline per attempt**: an anyio scope of the largest timeout phase, from
  waiting for a connection to the answer's last byte; httpcore applies the phases
  themselves (``connect``, ``read``, ``write``, ``pool``) inside it.
- **Size**: a ``Content-Length`` over ``max_response_bytes`` fails before reading; the
  body is read and decoded in bounded steps (:func:`._bounds.read_capped`).
- **CA policy**: the client's one ``ssl.SSLContext`` (:class:`TransportConfig`).
- **No resend below the SDK**: httpcore never resends a request it has started to
  write (``retries=0``: not even a connection attempt), and closes a connection whose
  answer was not read to its end.
- **One translation**: httpcore's exceptions become httpx's classes of the same name
  (:func:`._errors.from_httpcore`), as ``httpx.AsyncHTTPTransport`` maps them.

The request carries exactly the headers ``httpx.Request`` adds to the pipeline's:
``Host``, and ``Content-Length`` (``0`` for a POST, PUT or PATCH without a body).
"""

from __future__ import annotations

import traceback
from typing import Any

import anyio
import httpcore
import httpx

from ._bounds import deadline_of, decoded_headers, read_capped
from ._config import TransportConfig
from ._errors import from_httpcore
from ._exceptions import AttemptTimeout, ResponseTooLarge
from ._httpx import Shards
from ._reply import WholeReply
from ._sender import Params, ParsedURLs, Reply, SecretText

__all__ = ["HttpcoreSender"]

# What a URL string becomes, once: httpcore's URL and the Host header's value.
_Target = tuple[httpcore.URL, bytes]
# Methods whose empty body httpx states (``Content-Length: 0``): a confirmation's PUT
# carries none, and some servers refuse a PUT without a length (411).
_STATED_EMPTY = frozenset({"POST", "PUT", "PATCH"})


class HttpcoreSender:
    """Send the pipeline's attempts over httpcore's pools, opened at the first request."""

    def __init__(self, config: TransportConfig, *, max_response_bytes: int) -> None:
        self.config = config
        self.max_response_bytes = max_response_bytes
        self._shards: Shards[httpcore.Request, httpcore.Response] | None = None
        self._closed = False
        self._targets = ParsedURLs(lambda url: _target_of(httpx.URL(url)))

    def _open(self) -> Shards[httpcore.Request, httpcore.Response]:
        if self._closed:
            raise RuntimeError("the transport is closed")
        context = self.config.ssl_context()

        def pool(limits: httpx.Limits) -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                retries=0,
            )

        self._shards = Shards(self.config.limits, pool)
        return self._shards

    def _target(self, url: str, params: Params | None) -> _Target:
        if params:  # lists and lookups: encoded exactly as httpx would
            return _target_of(httpx.URL(url, params=params))
        return self._targets[url]

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
        shards = self._shards
        if shards is None:
            shards = self._open()
        target, host = self._target(url, params)
        lines = [(b"Host", host), *((k.encode(), v.encode()) for k, v in headers.items())]
        if content:
            lines.append((b"Content-Length", str(len(content)).encode()))
        elif method in _STATED_EMPTY:
            lines.append((b"Content-Length", b"0"))
        deadline = deadline_of(timeouts)
        with anyio.move_on_after(deadline):
            try:
                response = await shards.handle_async_request(
                    httpcore.Request(
                        method.encode(),
                        target,
                        # Built in the call, never held in a local of this frame: error
                        # trackers record frame locals.
                        headers=[*lines, (b"Authorization", authorization.get().encode())],
                        content=content,
                        extensions={"timeout": timeouts},
                    )
                )
                try:
                    body = await self._read(response)
                finally:
                    # Read to its end, the connection goes back to the pool; cut short,
                    # httpcore closes it.
                    await response.aclose()
            except Exception as exc:
                # httpcore's and h11's finished frames hold the request's headers.
                traceback.clear_frames(exc.__traceback__)
                error = from_httpcore(exc)
                if error is None:
                    raise
                raise error from exc
            reason = response.extensions.get("reason_phrase", b"")
            return WholeReply(
                response.status, reason.decode("ascii", "replace"),
                decoded_headers(httpx.Headers(response.headers)), body,
            )
        assert deadline is not None
        raise AttemptTimeout(deadline)

    async def _read(self, response: httpcore.Response) -> bytes:
        limit = self.max_response_bytes
        length = encoding = b""
        for name, value in response.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = value
            elif lowered == b"content-encoding":
                encoding = value
        if not encoding and length.isdigit() and int(length) > limit:
            raise ResponseTooLarge(limit, response.status)
        stream: Any = response.stream
        return await read_capped(
            stream, encoding.decode("latin-1").strip().lower(), limit, response.status
        )

    async def aclose(self) -> None:
        self._closed = True
        shards, self._shards = self._shards, None
        if shards is not None:
            await shards.aclose()


def _target_of(url: httpx.URL) -> _Target:
    """httpcore's URL for ``url`` (as ``httpx.AsyncHTTPTransport`` builds it) and the
    Host header (as ``httpx.Request`` sets it)."""
    return (
        httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port,
                     target=url.raw_path),
        url.netloc,
    )
