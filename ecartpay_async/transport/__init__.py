"""Transports under the request pipeline: maintained HTTP stacks behind httpx's interface.

No HTTP is spoken here: aiohttp or httpx/httpcore do it. This package chooses and
configures them, and bounds every attempt.

- :class:`AutoTransport`: the default; aiohttp on asyncio, httpx's transport (in small
  shards) on trio, picked at the first request; routes requests through proxies.
- :class:`AiohttpTransport`: an ``httpx.AsyncBaseTransport`` over ``aiohttp``
  (imported at its first request).
- :class:`ShardedTransport`: ``httpx.AsyncHTTPTransport`` split into small pools.
- :class:`TransportConfig`: limits, the one TLS context (CA policy), proxy routes.
- :class:`DefaultSender`: the SDK's own stack as the pipeline's sender: a direct lane
  with no httpx object built (:mod:`._direct`, aiohttp, on asyncio; :mod:`._httpcore`,
  httpcore in shards, on trio), else the above (through a proxy).
- :class:`HttpxSender` / :class:`TransportSender`: the pipeline's sender for an
  ``httpx`` or ``httpx2`` client or transport.
- :func:`exchange`: one attempt within its deadline and ``max_response_bytes``.

``AiohttpTransport`` loads on first access, so ``import ecartpay_async`` imports
neither asyncio nor aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._auto import AutoTransport, DefaultSender, Preference, on_asyncio
from ._bounds import DEFAULT_MAX_RESPONSE_BYTES, exchange
from ._config import DEFAULT_LIMITS, TransportConfig, Verify, ssl_context
from ._exceptions import AttemptTimeout, ProxyFailed, ResponseTooLarge
from ._httpx import ShardedTransport
from ._sender import HttpxSender, Reply, Sender, TransportSender, httpx_module_of

if TYPE_CHECKING:
    from ._aiohttp import AiohttpTransport

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "AiohttpTransport",
    "AttemptTimeout",
    "AutoTransport",
    "DefaultSender",
    "HttpxSender",
    "Preference",
    "ProxyFailed",
    "Reply",
    "ResponseTooLarge",
    "Sender",
    "ShardedTransport",
    "TransportConfig",
    "TransportSender",
    "Verify",
    "exchange",
    "httpx_module_of",
    "on_asyncio",
    "ssl_context",
]


def __getattr__(name: str) -> Any:
    if name == "AiohttpTransport":
        from ._aiohttp import AiohttpTransport

        return AiohttpTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
