"""Loopback servers for the transport tests: real sockets, one thread per connection.

Each server binds 127.0.0.1 on a free port and runs a *behaviour* per accepted
connection (answer properly, hang, reset, send garbage...). Hanging behaviours wait
on the server's stop event, so closing the server ends every thread at once.
"""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

Behaviour = Callable[[socket.socket, threading.Event], None]


class LoopbackServer:
    def __init__(self, behaviour: Behaviour, backlog: int = 64) -> None:
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            self.behaviour(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


@contextmanager
def serve(behaviour: Behaviour, backlog: int = 64) -> Iterator[LoopbackServer]:
    server = LoopbackServer(behaviour, backlog)
    try:
        yield server
    finally:
        server.close()


def read_request(conn: socket.socket) -> tuple[bytes, bytes, bytes] | None:
    """Read one request: (method, target, body); None if the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, target, _ = lines[0].split(b" ", 2)
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        chunked = chunked or name.strip().lower() == b"transfer-encoding"
    if chunked:
        return method, target, _read_chunked(conn, body)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return method, target, body


def _read_chunked(conn: socket.socket, data: bytes) -> bytes:
    while not data.endswith(b"0\r\n\r\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2 :]


def answer(status: int, body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n%s" % (status, len(body), extra, body)


def well_behaved(conn: socket.socket, stop: threading.Event) -> None:
    """A keep-alive HTTP/1.1 server with a few routes for the transport tests."""
    while not stop.is_set():
        request = read_request(conn)
        if request is None:
            return
        method, target, body = request
        if target == b"/gzip":
            payload = gzip.compress(b'{"compressed":true}')
            conn.sendall(answer(200, payload, b"Content-Encoding: gzip\r\n"))
        elif target == b"/chunked":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
            )
        elif target == b"/close":
            conn.sendall(answer(200, b"bye", b"Connection: close\r\n"))
            return
        elif target == b"/head" and method == b"HEAD":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")
        else:
            echo = {"method": method.decode(), "target": target.decode(), "body": body.decode()}
            conn.sendall(answer(201, json.dumps(echo).encode(), b"X-Multi: a\r\nX-Multi: b\r\n"))


def reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


TRANSPORTS = ["auto", "aiohttp"]


def make_transport(kind: str, backend: str, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """``auto``: the SDK default (asyncio transport, or httpx's on trio); ``aiohttp``."""
    from ecartpay_async.transport import AiohttpTransport, AutoTransport

    if kind == "aiohttp":
        if backend != "asyncio":
            pytest.skip("aiohttp runs on asyncio only")
        return AiohttpTransport(limits=limits)
    return AutoTransport(limits=limits)


async def send(
    transport: httpx.AsyncBaseTransport,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    timeout: httpx.Timeout = httpx.Timeout(5.0),
) -> httpx.Response:
    request = httpx.Request(method, url, content=content,
                            extensions={"timeout": timeout.as_dict()})
    response = await transport.handle_async_request(request)
    await response.aread()
    return response
