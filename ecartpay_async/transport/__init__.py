"""Transports under the request pipeline (httpx's transport interface throughout).

- :class:`AutoTransport`: the default; picks at the first request.
- :class:`AsyncioTransport`: HTTP/1.1 over asyncio Protocols, the fast path on asyncio.
- :class:`AiohttpTransport`: an ``httpx.AsyncBaseTransport`` over ``aiohttp``
  (``prefer="aiohttp"``; aiohttp is imported at its first request).
- :class:`TransportSender`: the pipeline's sender for a transport the SDK owns.

On trio, ``AutoTransport`` uses ``httpx.AsyncHTTPTransport``.
"""

from ._aiohttp import AiohttpTransport
from ._asyncio import AsyncioTransport
from ._auto import AutoTransport, Preference, on_asyncio
from ._sender import TransportSender

__all__ = [
    "AiohttpTransport",
    "AsyncioTransport",
    "AutoTransport",
    "Preference",
    "TransportSender",
    "on_asyncio",
]
