"""The pipeline's sender for a transport the SDK owns: no ``httpx.AsyncClient`` in between.

``AsyncClient.send`` re-checks cookies, auth, redirects, event hooks and timing on
every request; the pipeline needs none of it for the transport it owns, so it calls
``handle_async_request`` directly, within the attempt's deadline and size limit
(:mod:`._bounds`). A user's own ``httpx.AsyncClient`` goes through ``client.send``
under the same bounds (``_http.ClientSender``).
"""

from __future__ import annotations

import httpx

from ._bounds import DEFAULT_MAX_RESPONSE_BYTES, exchange

__all__ = ["TransportSender"]


class TransportSender:
    """Send through a transport the SDK owns; closing the sender closes it."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.transport = transport
        self.max_response_bytes = max_response_bytes

    async def send(self, request: httpx.Request) -> httpx.Response:
        response = await exchange(
            self.transport.handle_async_request, request, self.max_response_bytes
        )
        response.request = request  # httpx's transports leave that to AsyncClient
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()
