"""Senders: how the pipeline hands one attempt to an HTTP stack, and gets the answer back.

The pipeline speaks to a :class:`Sender` only: method, URL, query, headers, the
authorization (a secret, turned into text at the last moment), body and timeout
phases in; a :class:`Reply` (status, headers, whole body) out. Two kinds exist:

- :class:`HttpxSender`: a user's ``http_client=`` (``httpx.AsyncClient`` or
  ``httpx2.AsyncClient``: the same API, distinct classes), a ``transport=`` of either
  generation, or the SDK's own :class:`AutoTransport` (the default on trio). It builds
  that generation's ``Request`` and reads the answer within :func:`exchange`'s bounds.
  For a transport, ``handle_async_request`` is called directly: ``AsyncClient.send``
  re-checks cookies, auth, redirects and hooks that the SDK does not need.
- :class:`~._direct.AiohttpSender`: the direct lane (asyncio, the SDK's own aiohttp
  session), no httpx object built at all.

Failures come out as exceptions of the httpx family (httpx's or httpx2's classes, or
the SDK's :mod:`._exceptions`), which the pipeline translates in one place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import httpx

from ._bounds import DEFAULT_MAX_RESPONSE_BYTES, exchange

__all__ = [
    "HttpxSender", "ParsedURLs", "Reply", "SecretText", "Sender", "TransportSender",
    "httpx_module_of",
]

#: Query values as the pipeline passes them (None values are dropped before).
Params = Mapping[str, Any]
U = TypeVar("U")


class SecretText(Protocol):
    """The authorization header's value, held until the request is built."""

    def get(self) -> str: ...


class Reply(Protocol):
    """An answer read whole: what the pipeline needs of it."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason_phrase(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...


class Sender(Protocol):
    """Sends one attempt and returns the answer with its body read."""

    async def send(
        self,
        method: str,
        url: str,
        params: Params | None,
        headers: dict[str, str],
        authorization: SecretText,
        content: bytes | None,
        timeouts: dict[str, float | None],
    ) -> Reply: ...

    async def aclose(self) -> None: ...


class ParsedURLs(dict[str, U]):
    """Each URL string parsed once, by ``parse``: parsing a URL costs more than the rest
    of a request, and a payout POST always has the same one. A found URL is a plain
    dict lookup. Bounded: URLs with an id in them (retrieve, confirm) must not grow it
    forever; past ``size`` they are parsed each time."""

    def __init__(self, parse: Callable[[str], U], *, size: int = 32) -> None:
        super().__init__()
        self._parse = parse
        self._size = size

    def __missing__(self, url: str) -> U:
        parsed = self._parse(url)
        if len(self) < self._size:
            self[url] = parsed
        return parsed


def httpx_module_of(target: object, *, client: bool) -> Any:
    """``httpx`` or ``httpx2``, whichever ``target`` (an ``AsyncClient``, or else an
    ``AsyncBaseTransport``) belongs to; a clear TypeError for anything else."""
    kind = "AsyncClient" if client else "AsyncBaseTransport"
    for name in ("httpx", "httpx2"):
        module = sys.modules.get(name)  # an httpx2 object means httpx2 is imported
        if module is not None and isinstance(target, getattr(module, kind)):
            return module
    option = "http_client" if client else "transport"
    raise TypeError(
        f"{option}= takes an httpx.{kind} or an httpx2.{kind}, not {type(target).__name__}"
    )


class HttpxSender:
    """Send through an httpx or httpx2 client or transport, within the attempt's bounds."""

    def __init__(
        self,
        target: Any,
        *,
        client: bool,
        owned: bool,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.module = httpx_module_of(target, client=client)
        self.target = target
        self.owned = owned
        self.max_response_bytes = max_response_bytes
        self._send = self._through_client if client else target.handle_async_request
        self._urls = ParsedURLs(self.module.URL)  # httpx merges each call's query

    async def _through_client(self, request: Any) -> Any:
        return await self.target.send(request, stream=True)

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
        module = self.module
        parsed = self._urls[url]
        request = module.Request(
            method, parsed, params=params or None, headers=headers, content=content,
            extensions={"timeout": timeouts},
        )
        # The key pair or token becomes text here and only here, straight into the
        # request: no frame holds it in a plain str local, where error trackers that
        # record frame locals would find it (httpx redacts it in reprs).
        request.headers["Authorization"] = authorization.get()
        return await exchange(self._send, request, self.max_response_bytes)

    async def aclose(self) -> None:
        # Never close a client the caller lent us; a transport given is the SDK's to close.
        if self.owned:
            await self.target.aclose()


class TransportSender(HttpxSender):
    """An :class:`HttpxSender` over a transport the SDK owns; closing it closes the transport."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__(
            transport, client=False, owned=True, max_response_bytes=max_response_bytes
        )
        self.transport = transport
