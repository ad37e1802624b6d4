"""aiohttp's exceptions, translated into the httpx exceptions the pipeline classifies.

The line that matters for never paying twice: ``ConnectError``, ``ConnectTimeout``,
``PoolTimeout`` and ``ProxyError`` mean the request never left (safe to send again);
every other error may come after the server got the request (ambiguous: look up
before resending).
So only aiohttp's connector errors become connect errors, and anything unrecognised
becomes a ``ReadError``, the ambiguous side.

=====================================  =============================
aiohttp                                httpx
=====================================  =============================
ClientProxyConnectionError (proxy      ProxyError
unreachable), ClientHttpProxyError
(proxy refused CONNECT)
ConnectionTimeoutError                 ConnectTimeout
SocketTimeoutError, ServerTimeoutError ReadTimeout
ClientConnectorError (DNS, refused,    ConnectError
TLS handshake, certificate), a write
refused on a closing socket
ServerDisconnectedError                RemoteProtocolError
ClientPayloadError (cut-off body)      RemoteProtocolError
ClientResponseError (bad HTTP)         RemoteProtocolError
ClientOSError "Can not write request"  WriteError
ClientConnectionResetError (writing)   WriteError
ClientOSError, other connection error  ReadError
InvalidURL                             UnsupportedProtocol
=====================================  =============================

One failure is provably before a byte left: aiohttp refusing to write the request
because the pooled connection's socket was already closing (the server closed it
while it sat idle, and the close was read between taking the connection and
writing). aiohttp writes a request given as bytes in one write, so nothing of it went
out: :func:`written_nothing` recognises that case, which the transport retries once
on a new connection and otherwise reports as a ``ConnectError`` (never sent).

(``PoolTimeout`` is raised by the transport itself: it owns the pool's limit.) A reset
while a large body is still uploading usually reaches aiohttp through the read side
first, so it comes out as ``ReadError``: still ambiguous, which is the safe side.
"""

from __future__ import annotations

import httpx

__all__ = ["to_httpx_error", "written_nothing"]

_WRITE_FAILED = "Can not write request body"
_CLOSING = "Cannot write to closing transport"


def written_nothing(exc: BaseException) -> bool:
    """True when aiohttp refused to write the request at all: its socket was closing."""
    import aiohttp

    link: BaseException | None = exc
    for _ in range(4):
        if link is None:
            return False
        if isinstance(link, aiohttp.ClientConnectionResetError) and _CLOSING in str(link):
            return True
        link = link.__cause__
    return False


def to_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp (or asyncio timeout) error; None if not one."""
    import asyncio

    import aiohttp

    message = str(exc) or type(exc).__name__
    kind: type[httpx.TransportError]
    if written_nothing(exc):
        kind = httpx.ConnectError
        message = f"the connection was closed before the request was written ({message})"
    elif isinstance(exc, (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)):
        kind = httpx.ProxyError
    elif isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        kind = httpx.RemoteProtocolError
        message = "Server disconnected without sending a complete response."
    elif isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.ClientConnectionResetError) or (
        isinstance(exc, aiohttp.ClientOSError) and _WRITE_FAILED in message
    ):
        kind = httpx.WriteError
    elif isinstance(exc, aiohttp.ClientConnectionError):
        kind = httpx.ReadError
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientError):
        kind = httpx.ReadError
    else:
        return None
    return kind(message, request=request)
