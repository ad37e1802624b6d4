"""Loopback servers for the transport tests: real sockets, one thread per connection.

Each server binds 127.0.0.1 on a free port and runs a *behaviour* per accepted
connection (answer properly, hang, reset, send garbage, trickle...). Hanging
behaviours wait on the server's stop event, so closing the server ends every thread
at once. A server can speak TLS (``tls=`` a server ``ssl.SSLContext``, e.g. from a
``trustme`` CA made by the test). :class:`Proxy` is a CONNECT and forward proxy that
counts what it carries; :func:`api` is a tiny Ecart Pay API whose payout POST
misbehaves as a test asks.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

Behaviour = Callable[[socket.socket, threading.Event], None]


class LoopbackServer:
    def __init__(
        self, behaviour: Behaviour, backlog: int = 64, tls: ssl.SSLContext | None = None
    ) -> None:
        self.behaviour = behaviour
        self.tls = tls
        self.stop = threading.Event()
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
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
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.behaviour(conn, self.stop)
        except OSError:  # ssl.SSLError included: a client that refused the certificate
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
def serve(
    behaviour: Behaviour, backlog: int = 64, tls: ssl.SSLContext | None = None
) -> Iterator[LoopbackServer]:
    server = LoopbackServer(behaviour, backlog, tls)
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


# "auto": the SDK's AutoTransport (aiohttp on asyncio, httpx's transport in shards on
# trio); "httpx": httpx's transport on asyncio too; "lane": the SDK's default sender,
# whose direct lanes build no httpx object (aiohttp on asyncio, httpcore on trio).
TRANSPORTS = ["auto", "httpx", "lane"]


def make_transport(kind: str, backend: str, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    from ecartpay_async.transport import AutoTransport, TransportConfig

    if kind == "httpx" and backend != "asyncio":
        pytest.skip("on trio AutoTransport is httpx's transport already")
    config = TransportConfig(limits=limits, trust_env=False)
    if kind == "lane":
        return LaneTransport(config)
    return AutoTransport(config, prefer="httpx" if kind == "httpx" else "auto")


class _Authorization:
    def get(self) -> str:
        return "Bearer loopback"


class LaneTransport(httpx.AsyncBaseTransport):
    """The SDK's default sender under httpx's transport interface, so that every
    transport test also runs on its direct lanes. The errors it raises are the lane's
    own, given the request as httpx's transports give it."""

    def __init__(self, config: object) -> None:
        from ecartpay_async.transport import AutoTransport, DefaultSender

        self.sender = DefaultSender(AutoTransport(config))  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        skipped = ("host", "content-length", "transfer-encoding")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skipped}
        try:
            reply = await self.sender.send(
                request.method, str(request.url), None, headers, _Authorization(),
                body if request.method in ("POST", "PUT", "PATCH") else None,
                request.extensions["timeout"],
            )
        except httpx.TransportError as exc:
            exc.request = request
            raise
        items = getattr(reply.headers, "multi_items", reply.headers.items)()
        return httpx.Response(reply.status_code, headers=list(items), content=reply.content,
                              request=request)

    async def aclose(self) -> None:
        await self.sender.aclose()


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


# -- a proxy -------------------------------------------------------------------------


class Proxy:
    """An HTTP proxy on 127.0.0.1: ``CONNECT`` tunnels and absolute-URI forwarding.

    ``tunnels`` counts the CONNECTs it opened, ``forwarded`` the connections on which
    it forwarded absolute-URI requests, ``targets`` what each asked for, and
    ``authorizations`` the ``Proxy-Authorization`` headers it was given. With
    ``refuse`` it answers every request with that status instead.
    """

    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse
        self.tunnels = 0
        self.forwarded = 0
        self.targets: list[str] = []
        self.authorizations: list[str] = []
        self._server = LoopbackServer(self._handle)
        self.port = self._server.port
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.close()

    def _handle(self, conn: socket.socket, stop: threading.Event) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method, target, version = lines[0].split(b" ", 2)
        self.targets.append(f"{method.decode()} {target.decode()}")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"proxy-authorization":
                self.authorizations.append(value.strip().decode())
        if self.refuse is not None:
            conn.sendall(b"HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n\r\n" % self.refuse)
            return
        if method == b"CONNECT":
            host, _, port = target.decode().rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=10)
            self.tunnels += 1
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(conn, upstream, stop, rest)
            return
        url = urlsplit(target.decode())
        upstream = socket.create_connection((url.hostname, url.port or 80), timeout=10)
        self.forwarded += 1
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        kept = [line for line in lines[1:] if not line.lower().startswith(b"proxy-")]
        first = b"%s %s %s" % (method, path.encode(), version)
        _pipe(conn, upstream, stop, b"\r\n".join([first, *kept]) + b"\r\n\r\n" + rest)


def _pipe(client: socket.socket, upstream: socket.socket, stop: threading.Event,
          first: bytes) -> None:
    """Carry bytes both ways until either side closes (later requests on a kept-alive
    connection go to the same upstream: enough for the tests)."""
    with upstream:
        if first:
            upstream.sendall(first)
        while not stop.is_set():
            ready, _, _ = select.select([client, upstream], [], [], 0.05)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)


@contextmanager
def proxy(refuse: int | None = None) -> Iterator[Proxy]:
    running = Proxy(refuse)
    try:
        yield running
    finally:
        running.close()


# -- a tiny Ecart Pay API with one misbehaving route -----------------------------------

TOKEN = "a.eyJleHAiOjQxMDI0NDQ4MDAsImlhdCI6NDEwMjQ0MTIwMH0.c"

Misbehaviour = Callable[[socket.socket, threading.Event], None]


class Api:
    """Answers the token request, payout lookups and creates; the first ``bad_posts``
    payout POSTs are created and then answered by ``misbehave`` instead. With
    ``close_after_answer`` each connection is closed right after one answer, without
    the ``Connection: close`` header that would warn the client."""

    def __init__(
        self, misbehave: Misbehaviour | None = None, bad_posts: int = 1,
        close_after_answer: bool = False,
    ) -> None:
        self.misbehave = misbehave
        self.bad_posts = bad_posts
        self.close_after_answer = close_after_answer
        self.posts = 0
        self.lookups = 0
        self.payouts: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            request = read_request(conn)
            if request is None:
                return
            method, target, body = request
            url = urlsplit(target.decode())
            if url.path == "/api/authorizations/token":
                conn.sendall(answer(200, json.dumps({"token": TOKEN}).encode(), _JSON))
            elif method == b"GET" and url.path == "/api/payouts":
                reference = parse_qs(url.query).get("reference_id", [""])[0]
                with self._lock:
                    self.lookups += 1
                    found = [self.payouts[reference]] if reference in self.payouts else []
                conn.sendall(answer(200, json.dumps(found).encode(), _JSON))
            elif method == b"POST" and url.path == "/api/payouts":
                payout = self._create(json.loads(body))
                with self._lock:
                    self.posts += 1
                    bad = self.misbehave is not None and self.posts <= self.bad_posts
                if bad:
                    assert self.misbehave is not None
                    self.misbehave(conn, stop)
                    return
                conn.sendall(answer(200, json.dumps(payout).encode(), _JSON))
            else:
                conn.sendall(answer(404, b'{"message":"no such route"}', _JSON))
            if self.close_after_answer:
                return

    def _create(self, body: dict[str, object]) -> dict[str, object]:
        reference = str(body.get("reference_id") or f"anon-{len(self.payouts)}")
        payout = {
            "id": f"po_{len(self.payouts) + 1}", "status": "paid", "reference_id": reference,
            "email": body.get("email"), "amount": body["amount"], "currency": body["currency"],
        }
        with self._lock:
            self.payouts.setdefault(reference, payout)
            return self.payouts[reference]


_JSON = b"Content-Type: application/json\r\n"
