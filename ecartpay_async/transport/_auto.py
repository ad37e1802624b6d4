"""The SDK's default stack: a direct lane where it can, else a transport under httpx's interface.

:class:`DefaultSender` (the pipeline's sender unless the user gives one) takes a
direct lane, with no httpx object built, for every request that goes through no
proxy: aiohttp on asyncio, httpcore on trio. :class:`AutoTransport` carries the rest.
Its stack is picked at the first request, from the event loop actually running
(``sniffio``), never at import: under asyncio requests go through
:class:`AiohttpTransport`, under trio through httpx's transport in small shards
(:class:`ShardedTransport`). ``prefer="httpx"`` uses httpx's on asyncio too, and
turns the direct lanes off.

Proxies are routed per URL, as ``httpx.AsyncClient`` mounts them: one inner transport
for direct requests and one per proxy (:class:`TransportConfig` says which URL goes
where). A request sent through a proxy that cannot be reached or refuses to connect
onward fails with :class:`ProxyFailed`, naming the proxy without its credentials.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Literal

import httpx
import sniffio

from ._bounds import DEFAULT_MAX_RESPONSE_BYTES
from ._config import TransportConfig, safe_proxy_url
from ._exceptions import ProxyFailed
from ._httpx import ShardedTransport
from ._sender import Params, Reply, SecretText, Sender, TransportSender

__all__ = ["AutoTransport", "DefaultSender", "Lane", "Preference", "on_asyncio"]

Preference = Literal["auto", "aiohttp", "httpx"]
Lane = Literal["aiohttp", "httpcore"]
Factory = Callable[[httpx.Proxy | None], httpx.AsyncBaseTransport]

# Failures that mean the proxy itself could not be used: the API was never reached.
_PROXY_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)


def on_asyncio() -> bool:
    """True when the running event loop is asyncio's."""
    try:
        return sniffio.current_async_library() == "asyncio"
    except sniffio.AsyncLibraryNotFoundError:
        return False


class AutoTransport(httpx.AsyncBaseTransport):
    """Route each request to the right proxy (or none) over the stack that fits the loop."""

    def __init__(
        self,
        config: TransportConfig | None = None,
        *,
        prefer: Preference = "auto",
    ) -> None:
        if prefer not in ("auto", "aiohttp", "httpx"):
            raise ValueError(f"prefer must be 'auto', 'aiohttp' or 'httpx', not {prefer!r}")
        self.config = config or TransportConfig()
        self._prefer = prefer
        self._make: Factory | None = None
        self._direct: httpx.AsyncBaseTransport | None = None
        self._via: dict[int, httpx.AsyncBaseTransport] = {}  # by id() of the route's Proxy
        self._closed = False

    @property
    def chosen(self) -> httpx.AsyncBaseTransport | None:
        """The transport for direct requests, once a request has been sent."""
        return self._direct

    def _factory(self) -> Factory:
        config = self.config
        limits, context = config.limits, config.ssl_context()
        if self._prefer != "httpx" and on_asyncio():
            # Imported here, not at the top: importing the SDK must not pay for aiohttp.
            from ._aiohttp import AiohttpTransport

            return lambda proxy: AiohttpTransport(limits=limits, verify=context, proxy=proxy)
        return lambda proxy: ShardedTransport(limits=limits, verify=context, proxy=proxy)

    def _transport_for(self, proxy: httpx.Proxy | None) -> httpx.AsyncBaseTransport:
        if self._closed:
            # Never a new pool (and a new aiohttp session nobody would close) after aclose().
            raise RuntimeError("the transport is closed")
        make = self._make
        if make is None:
            make = self._make = self._factory()
        if proxy is None:
            if self._direct is None:
                self._direct = make(None)
            return self._direct
        transport = self._via.get(id(proxy))
        if transport is None:
            transport = self._via[id(proxy)] = make(proxy)
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self.config.proxy_for(request.url) if self.config.uses_proxies else None
        transport = self._transport_for(proxy)
        try:
            response = await transport.handle_async_request(request)
        except _PROXY_FAILURES as exc:
            if proxy is None or _refused_certificate(exc):  # the origin's, through the tunnel
                exc.request = request
                raise
            raise ProxyFailed(
                safe_proxy_url(proxy), f"{type(exc).__name__}: {_scrubbed(exc, proxy)}",
                request=request,
            ) from exc
        except httpx.TransportError as exc:
            exc.request = request  # httpx's transport leaves that to AsyncClient
            raise
        response.request = request
        return response

    def lane_for(self, url: str) -> Lane | None:
        """The direct lane requests to ``url`` may take, skipping httpx's objects:
        ``"aiohttp"`` on asyncio, ``"httpcore"`` elsewhere (trio); None with a proxy on
        the way (proxied requests are routed per proxy here) or ``prefer="httpx"``."""
        if self._prefer == "httpx" or self.config.proxy_for(url) is not None:
            return None
        return "aiohttp" if on_asyncio() else "httpcore"

    async def aclose(self) -> None:
        self._closed = True
        transports = [self._direct, *self._via.values()]
        self._direct, self._via = None, {}
        for transport in transports:
            if transport is not None:
                await transport.aclose()


def _refused_certificate(exc: BaseException) -> bool:
    link: BaseException | None = exc
    for _ in range(6):
        if link is None:
            return False
        if isinstance(link, ssl.SSLError):
            return True
        link = link.__cause__ or link.__context__
    return False


def _scrubbed(exc: Exception, proxy: httpx.Proxy) -> str:
    """The error's text with the proxy's credentials blanked, should a library echo them."""
    text = str(exc) or "no detail"
    for secret in proxy.auth or ():
        if secret:
            text = text.replace(secret, "***")
    return text


class DefaultSender:
    """The SDK's own stack, chosen at the first request: a direct lane, with no httpx
    object built (:class:`~._direct.AiohttpSender` on asyncio,
    :class:`~._httpcore.HttpcoreSender` on trio), else this :class:`AutoTransport`
    under the httpx-interface sender (a request that goes through a proxy;
    ``prefer="httpx"``). The API's origin is the same for every request of a client,
    so the choice is made once."""

    def __init__(
        self, transport: AutoTransport, *, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        self.transport = transport
        self.max_response_bytes = max_response_bytes
        self._httpx = TransportSender(transport, max_response_bytes=max_response_bytes)
        self._direct: Sender | None = None
        self._chosen: Sender | None = None

    @property
    def chosen(self) -> Sender | None:
        """The sender every request goes through, once the first one went."""
        return self._chosen

    def _choose(self, url: str) -> Sender:
        lane = self.transport.lane_for(url)
        config, limit = self.transport.config, self.max_response_bytes
        if lane == "aiohttp":
            from ._direct import AiohttpSender  # imports aiohttp at its first request

            self._direct = AiohttpSender(config, max_response_bytes=limit)
        elif lane == "httpcore":
            from ._httpcore import HttpcoreSender

            self._direct = HttpcoreSender(config, max_response_bytes=limit)
        else:
            return self._httpx
        return self._direct

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
        chosen = self._chosen
        if chosen is None:
            chosen = self._chosen = self._choose(url)
            # Every later request goes straight to the chosen sender: one coroutine
            # less per attempt (each level costs CPU at every suspension).
            self.send = chosen.send  # type: ignore[method-assign]
        return await chosen.send(method, url, params, headers, authorization, content, timeouts)

    async def aclose(self) -> None:
        await self._httpx.aclose()
        if self._direct is not None:
            await self._direct.aclose()
