"""One HTTP/1.1 connection as an asyncio ``Protocol``: one request at a time, no task.

``exchange`` writes a request and waits on a future that ``data_received`` resolves
when the parser has a whole response, so an answer costs no task and no stream
object. Failures become the httpx exception the pipeline classifies:

- the peer closed cleanly, or sent bad HTTP: ``RemoteProtocolError``;
- the connection broke while the request was still being written: ``WriteError``;
- it broke after the request was handed to the kernel: ``ReadError``;
- no byte for the ``read`` timeout: ``ReadTimeout``.

The write-buffer high-water mark is zero, so asyncio tells the connection (through
``pause_writing``/``resume_writing``) exactly when bytes are still waiting to go out.
"""

from __future__ import annotations

import asyncio

import httpx

from ._h1 import ProtocolViolation, ResponseParser

__all__ = ["Connection"]


class Connection(asyncio.Protocol):
    """A keep-alive connection to one origin, reusable while ``usable``."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._parser: ResponseParser | None = None
        self._waiter: asyncio.Future[ResponseParser] | None = None
        self._writing = False
        self._last_data = 0.0
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.idle_since = 0.0

    @property
    def usable(self) -> bool:
        transport = self._transport
        return transport is not None and not transport.is_closing() and self._parser is None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=0)

    def pause_writing(self) -> None:
        self._writing = True

    def resume_writing(self) -> None:
        self._writing = False

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:  # nothing asked: the connection is out of step, drop it
            self.close()
            return
        self._last_data = self._loop.time()
        try:
            done = parser.feed(data)
        except ProtocolViolation as exc:
            self._fail(httpx.RemoteProtocolError(str(exc)))
            return
        if done:
            self._finish(parser)

    def eof_received(self) -> bool:
        parser = self._parser
        if parser is not None:
            try:
                if parser.feed_eof():
                    self._finish(parser)
            except ProtocolViolation as exc:
                self._fail(httpx.RemoteProtocolError(str(exc)))
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._waiter is None:
            return
        error: httpx.TransportError
        if exc is None:
            message = "Server disconnected without sending a response."
            error = httpx.RemoteProtocolError(message)
        elif self._writing:
            error = httpx.WriteError(str(exc) or type(exc).__name__)
        else:
            error = httpx.ReadError(str(exc) or type(exc).__name__)
        self._fail(error)

    async def exchange(
        self, data: bytes, method: str, read_timeout: float | None
    ) -> ResponseParser:
        """Send one request's bytes and wait for its whole response."""
        transport = self._transport
        if transport is None or transport.is_closing():
            raise httpx.ReadError("connection closed before the request was sent")
        self._parser = ResponseParser(method)
        waiter: asyncio.Future[ResponseParser] = self._loop.create_future()
        self._waiter = waiter
        self._last_data = self._loop.time()
        if read_timeout is not None:
            self._read_timeout = read_timeout
            self._timer = self._loop.call_at(self._last_data + read_timeout, self._check_timeout)
        transport.write(data)
        del data  # it holds the Authorization header: keep it out of this frame's locals
        try:
            return await waiter
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._waiter = None
            if not waiter.done() or waiter.cancelled() or waiter.exception() is not None:
                self.close()  # cancelled or failed mid-exchange: never reuse

    def _check_timeout(self) -> None:
        assert self._read_timeout is not None
        deadline = self._last_data + self._read_timeout
        if self._loop.time() >= deadline:
            self._timer = None
            self._fail(httpx.ReadTimeout("timed out waiting for the response"))
        else:
            self._timer = self._loop.call_at(deadline, self._check_timeout)

    def _finish(self, parser: ResponseParser) -> None:
        self._parser = None
        self.idle_since = self._loop.time()
        if not parser.keep_alive:
            self.close()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(parser)

    def _fail(self, error: httpx.TransportError) -> None:
        self._parser = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        transport = self._transport
        if transport is not None:
            transport.close()
