"""Transports under the request pipeline (httpx's transport interface throughout).

- :class:`AutoTransport`: the default; picks at the first request.
- :class:`AsyncioTransport`: HTTP/1.1 over asyncio Protocols, the fast path on asyncio.
- :class:`AiohttpTransport`: an ``httpx.AsyncBaseTransport`` over ``aiohttp``
  (``prefer="aiohttp"``; aiohttp is imported at its first request).
- :class:`TransportSender`: the pipeline's sender for a transport the SDK owns.

On trio, ``AutoTransport`` uses ``httpx.AsyncHTTPTransport``. The two asyncio
transports load on first access, so ``import ecartpay_async`` does not import asyncio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._auto import AutoTransport, Preference, on_asyncio
from ._sender import TransportSender

if TYPE_CHECKING:
    from ._aiohttp import AiohttpTransport
    from ._asyncio import AsyncioTransport

__all__ = [
    "AiohttpTransport",
    "AsyncioTransport",
    "AutoTransport",
    "Preference",
    "TransportSender",
    "on_asyncio",
]


def __getattr__(name: str) -> Any:
    if name == "AsyncioTransport":
        from ._asyncio import AsyncioTransport

        return AsyncioTransport
    if name == "AiohttpTransport":
        from ._aiohttp import AiohttpTransport

        return AiohttpTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
