"""The pipeline's sender for the SDK's own transport: no ``httpx.AsyncClient`` in between.

``AsyncClient.send`` re-checks cookies, auth, redirects, event hooks and timing on
every request; the pipeline needs none of it for the transport it owns, so it calls
``handle_async_request`` directly and reads the body (a user's own
``httpx.AsyncClient`` still goes through ``client.send``: see ``http.ClientSender``).
"""

from __future__ import annotations

import httpx

__all__ = ["TransportSender"]


class TransportSender:
    """Send through a transport the SDK owns; closing the sender closes it."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(self, request: httpx.Request) -> httpx.Response:
        response = await self.transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()
