"""Transports under the request pipeline (httpx's transport interface throughout).

- :class:`AutoTransport`: the default. aiohttp on asyncio, httpx's own elsewhere
  (trio), chosen at the first request.
- :class:`AiohttpTransport`: an ``httpx.AsyncBaseTransport`` over ``aiohttp``.

Nothing here imports aiohttp until a request is sent through it.
"""

from ._aiohttp import AiohttpTransport
from ._asyncio import AsyncioTransport
from ._auto import AutoTransport, aiohttp_usable

__all__ = ["AiohttpTransport", "AsyncioTransport", "AutoTransport", "aiohttp_usable"]
