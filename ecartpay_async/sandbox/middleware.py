"""The ASGI middleware that makes requests fail, on the real socket when there is one.

It wraps the whole application, outside Starlette, so the ``send`` it is given is
uvicorn's own: ``send.__self__`` is uvicorn's request cycle (h11 and httptools
alike), whose ``transport`` is the connection. Closing that transport is the only
way to end a connection without an answer: an ASGI app that returns without
answering gets a 500 from uvicorn instead. After closing it the middleware waits
for uvicorn's ``http.disconnect`` so uvicorn knows the client is gone and stays quiet.

What a client sees:

=====================  =====================================================================
``reset``              TCP RST after the body is read, nothing done: ``httpx.ReadError``
``drop_after_commit``  done, then FIN with no answer: ``httpx.RemoteProtocolError``
``slow_after_commit``  done, answered after ``slow_ms``: the client's read timeout
``500_after_commit``   done, then a 500 JSON error
``truncated``          done, then the answer with its body cut in half (Content-Length
                       matches the cut body, so the client reads a 2xx that is not JSON)
``500``/``502``/``503``/``429``  the error (502 as HTML; 503 and 429 with Retry-After), nothing done
=====================  =====================================================================

In-process (ASGI transport, no socket) the connection faults are emulated by raising
the exception httpx would raise: ``httpx.ReadError``, ``httpx.RemoteProtocolError``,
and ``httpx.ReadTimeout`` for ``slow_after_commit``, each after the same state change.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import anyio
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import wire
from .faults import AFTER_COMMIT, Decision, FaultInjector, endpoint_for

__all__ = ["FaultMiddleware"]

_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _error(status: int, message: str) -> tuple[int, bytes, bytes]:
    return status, b"application/json", wire.dumps({"message": message, "statusCode": status})


class _Captured:
    """An ASGI ``send`` that keeps the answer instead of sending it."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


class FaultMiddleware:
    """Applies the :class:`~.faults.FaultInjector`'s decisions; ``/_sandbox/`` is exempt."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, *, in_process: bool = False) -> None:
        self.app = app
        self.injector = injector
        self.in_process = in_process
        #: Set when the server stops, so that held (slow) answers end at once.
        self.closing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide(endpoint_for(scope["method"], scope["path"]))
        if decision.delay > 0:
            await anyio.sleep(decision.delay)
        kind = decision.kind
        if kind is None:
            await self.app(scope, receive, send)
        elif kind in AFTER_COMMIT:
            captured = _Captured()
            await self.app(scope, receive, captured)
            await self._after_commit(kind, decision, captured, receive, send)
        else:
            await _drain(receive)
            await self._before_commit(kind, decision, receive, send)

    async def _before_commit(
        self, kind: str, decision: Decision, receive: Receive, send: Send
    ) -> None:
        retry_after = [(b"retry-after", str(decision.retry_after).encode())]
        if kind == "reset":
            await self._close(send, receive, reset=True)
        elif kind == "502":
            await _answer(send, 502, b"text/html", _BAD_GATEWAY_PAGE)
        elif kind == "503":
            await _answer(send, *_error(503, "Service Unavailable"), retry_after)
        elif kind == "429":
            await _answer(send, *_error(429, "Too Many Requests"), retry_after)
        else:
            await _answer(send, *_error(500, "Internal Server Error"))

    async def _after_commit(
        self, kind: str, decision: Decision, captured: _Captured, receive: Receive, send: Send
    ) -> None:
        if kind == "drop_after_commit":
            await self._close(send, receive, reset=False)
        elif kind == "500_after_commit":
            await _answer(send, *_error(500, "Internal Server Error"))
        elif kind == "slow_after_commit":
            if self.in_process:
                raise httpx.ReadTimeout("timed out (sandbox slow_after_commit)")
            outcome = await self._hold(receive, decision.slow)
            if outcome == "due":
                await _replay(send, captured, bytes(captured.body))
            elif outcome == "closing":
                await self._close(send, receive, reset=False)
        else:
            await _replay(send, captured, bytes(captured.body[: len(captured.body) // 2]))

    async def _close(self, send: Send, receive: Receive, *, reset: bool) -> None:
        if self.in_process:
            if reset:
                raise httpx.ReadError("[Errno 104] Connection reset by peer (sandbox reset)")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is None:
            raise RuntimeError("connection faults need uvicorn's h11 or httptools protocol")
        if reset:
            sock = transport.get_extra_info("socket")
            # Linger on with a zero timeout: close() sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        await _drain(receive, until_disconnect=True)

    async def _hold(self, receive: Receive, seconds: float) -> str:
        """Wait ``seconds`` ("due"), unless the client leaves ("gone") or the server
        stops ("closing") first."""
        with anyio.move_on_after(seconds):
            while not self.closing:
                with anyio.move_on_after(0.05):
                    if (await receive())["type"] == "http.disconnect":
                        return "gone"
            return "closing"
        return "due"


async def _drain(receive: Receive, *, until_disconnect: bool = False) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not until_disconnect and not message.get("more_body", False):
            return


async def _answer(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _replay(send: Send, captured: _Captured, body: bytes) -> None:
    headers = [(k, v) for k, v in captured.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": captured.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
