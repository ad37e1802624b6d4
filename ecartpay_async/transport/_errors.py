"""The stacks' exceptions, translated into the httpx exceptions the pipeline classifies.

httpcore's (the trio lane, :mod:`._httpcore`) map one to one, by class, onto httpx's
classes of the same name, as ``httpx.AsyncHTTPTransport`` maps them:
:func:`from_httpcore`. aiohttp's need a table (:func:`to_httpx_error`).

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
TLS handshake, certificate)
ServerDisconnectedError                RemoteProtocolError
ClientPayloadError (cut-off body)      RemoteProtocolError
ClientResponseError (bad HTTP)         RemoteProtocolError
ClientConnectionResetError (writing)   WriteError
ClientOSError, other connection error  ReadError
InvalidURL                             UnsupportedProtocol
=====================================  =============================

Two failures count as never sent, and the decision reads the exception's class and
where it was raised, never its message: aiohttp's connector errors (raised before a
connection exists), and a reset raised by aiohttp's writer guard, which refuses to
hand the request to a socket already closing (the server closed the pooled
connection between its reuse and the write; a request under 64 KiB is written in
that one call, so nothing of it left): :func:`refused_before_writing`.

**No resend below the SDK.** aiohttp resends a GET, PUT or DELETE once, on its own,
when a reused connection fails before the answer (``ClientSession``'s retry of
persistent connections, which has no option). :func:`no_resend`, a public aiohttp
client middleware, wraps exactly the failures that trigger that resend in
:class:`ConnectionLost`, which aiohttp does not retry: the failure reaches the SDK's
retry loop, which counts it, logs it, and applies the rules (a confirm or a payout is
looked up before being sent again). It is given per request, to the methods aiohttp
would resend (:data:`RESEND_GUARD`): a POST, which aiohttp never resends, is spared
the middleware's two coroutines.

(``PoolTimeout`` is raised by the transport itself: it owns the pool's limit.) A reset
while a large body is still uploading usually reaches aiohttp through the read side
first, so it comes out as ``ReadError``: still ambiguous, which is the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import httpx

__all__ = [
    "RESEND_GUARD", "ConnectionLost", "from_httpcore", "no_resend", "refused_before_writing",
    "to_httpx_error",
]

class ConnectionLost(Exception):
    """A connection failed after the request was handed to it (aiohttp's
    ``ClientOSError`` or ``ServerDisconnectedError``, kept as ``error``), carried past
    aiohttp's own resend."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error) or type(error).__name__)
        self.error = error


async def no_resend(request: Any, handler: Any) -> Any:
    """aiohttp client middleware: a lost connection is the SDK's to retry, not aiohttp's."""
    try:
        return await handler(request)
    except Exception as exc:
        import aiohttp  # here, not per request: only a failure needs the classes

        if isinstance(exc, (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
            raise ConnectionLost(exc) from exc
        raise


# The methods aiohttp resends on its own (its ``IDEMPOTENT_METHODS``).
_RESENT_BY_AIOHTTP: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_GUARDED: Final = (no_resend,)


#: The ``middlewares=`` of one aiohttp request, by its (upper-case) method:
#: :func:`no_resend` for a method aiohttp would resend; for the others ``.get`` gives
#: None, the session's (which has none). A lookup, not a call, on every request.
RESEND_GUARD: Final[Mapping[str, tuple[Any, ...]]] = dict.fromkeys(_RESENT_BY_AIOHTTP, _GUARDED)


def refused_before_writing(exc: BaseException) -> bool:
    """True when aiohttp's writer refused the request at its closing-socket guard."""
    import aiohttp

    link: BaseException | None = exc
    for _ in range(6):
        if link is None:
            return False
        if isinstance(link, ConnectionLost):
            link = link.error
        if isinstance(link, aiohttp.ClientConnectionResetError):
            tb = link.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            code = None if tb is None else tb.tb_frame.f_code
            return (
                code is not None and code.co_name in ("_write", "_writelines")
                and code.co_filename.endswith("http_writer.py")
            )
        link = link.__cause__ or link.__context__
    return False


def to_httpx_error(
    exc: BaseException, request: httpx.Request | None
) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp (or asyncio timeout) error; None if not one."""
    import asyncio

    import aiohttp

    before_writing = refused_before_writing(exc)
    if isinstance(exc, ConnectionLost):
        exc = exc.error
    message = str(exc) or type(exc).__name__
    kind: type[httpx.TransportError]
    if before_writing:
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
    elif isinstance(exc, aiohttp.ClientConnectionResetError):
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


def from_httpcore(exc: BaseException) -> httpx.TransportError | None:
    """httpx's exception for an httpcore one (the most specific class of the same
    name: ``httpcore.ConnectError`` becomes ``httpx.ConnectError``); None if not one."""
    for cls in type(exc).__mro__:
        if cls.__module__.partition(".")[0] == "httpcore":
            kind = getattr(httpx, cls.__name__, None)
            if isinstance(kind, type) and issubclass(kind, httpx.TransportError):
                return kind(str(exc))  # as httpx: an empty text leaves the cause to tell
    return None
