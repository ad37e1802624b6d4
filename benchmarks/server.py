"""A light loopback Ecart Pay stand-in for the benchmarks, run in its own process.

A raw asyncio ``Protocol`` speaking just enough HTTP/1.1 (keep-alive, Content-Length
bodies) to answer the three calls a payout batch makes:

- ``POST /api/authorizations/token``: a JWT-shaped token that expires in a year;
- ``POST /api/payouts``: a ``paid`` payout echoing reference_id, amount and currency;
- ``GET /api/payouts?reference_id=...``: an empty list;

plus ``GET /__stats`` (requests served, the server's own CPU seconds and peak RSS), so
the harness can show the server was not the bottleneck. Every answer is delayed by
``--latency-ms`` with ``loop.call_later``, which costs no task per request.

``python -m benchmarks.server --latency-ms 50`` binds 127.0.0.1 on a free port, prints
the port on stdout, and serves until stdin closes or ``--max-seconds`` pass.
``--impl aiohttp`` serves the same answers through ``aiohttp.web`` instead (kept to
compare the two servers' cost; the raw one is the lighter, see the README).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import re
import resource
import sys
import time
from collections.abc import Callable

__all__ = ["main", "make_token", "route"]

_counter = itertools.count(1)
_served = 0

_REFERENCE = re.compile(rb'"reference_id"\s*:\s*"([^"]*)"')
_AMOUNT = re.compile(rb'"amount"\s*:\s*"?([0-9.]+)"?')
_CURRENCY = re.compile(rb'"currency"\s*:\s*"([A-Z]{3})"')


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(now: float | None = None) -> str:
    """A JWT-shaped token (unsigned) whose ``exp`` is a year away."""
    iat = int(time.time() if now is None else now)
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    claims = {"id": "bench", "account_id": "acc_bench", "iat": iat, "exp": iat + 365 * 86400}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64(b'benchmark-signature')}"


def _payout(body: bytes) -> bytes:
    # A regex pick is a few µs; a full json.loads would make the server heavier
    # than it needs to be to echo three fields.
    ref = _REFERENCE.search(body)
    amount = _AMOUNT.search(body)
    currency = _CURRENCY.search(body)
    n = next(_counter)
    stamp = "2026-11-30T12:00:00.000Z"
    return (
        b'{"id":"po_%d","authorization_id":"au_%d","account_id":"acc_bench",'
        b'"reference_id":"%s","reference":"%d","status":"paid","currency":"%s",'
        b'"amount":%s,"fee":0,"exchange":1,"available_at":null,'
        b'"require_confirmation":false,"created_at":"%s","updated_at":"%s"}'
        % (
            n,
            n,
            ref.group(1) if ref else b"",
            n,
            currency.group(1) if currency else b"MXN",
            amount.group(1) if amount else b"0",
            stamp.encode(),
            stamp.encode(),
        )
    )


def _stats() -> bytes:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return json.dumps(
        {
            "requests": _served,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "maxrss_kb": usage.ru_maxrss,
        }
    ).encode()


def route(method: bytes, target: bytes, body: bytes) -> tuple[int, bytes]:
    """The status and JSON body for one request."""
    global _served
    _served += 1
    path, _, _query = target.partition(b"?")
    if method == b"POST" and path == b"/api/payouts":
        return 200, _payout(body)
    if method == b"POST" and path == b"/api/authorizations/token":
        return 200, b'{"token":"%s"}' % make_token().encode()
    if method == b"GET" and path == b"/api/payouts":
        return 200, b"[]"
    # The peers' calls (benchmarks/peers.py): stripe-python creates a payout,
    # openai-python retrieves a file; each answer is what their models parse.
    if method == b"POST" and path == b"/v1/payouts":
        n = next(_counter)
        return 200, (
            b'{"id":"po_%d","object":"payout","amount":1250,"currency":"mxn",'
            b'"status":"paid","method":"standard","type":"bank_account","livemode":false,'
            b'"created":1764000000,"arrival_date":1764000000,"automatic":false}' % n
        )
    if method == b"GET" and path.startswith(b"/v1/files/"):
        return 200, (
            b'{"id":"%s","object":"file","bytes":1250,"created_at":1764000000,'
            b'"filename":"payout.jsonl","purpose":"batch","status":"processed"}'
            % path.rpartition(b"/")[2]
        )
    if method == b"GET" and path == b"/__stats":
        _served -= 1
        return 200, _stats()
    return 404, b'{"message":"Not Found","statusCode":404}'


_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}


def _response(status: int, body: bytes, close: bool) -> bytes:
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status,
        _REASONS.get(status, b"Unknown"),
        len(body),
        b"Connection: close\r\n" if close else b"",
        body,
    )


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse requests as they arrive, answer after the latency."""

    def __init__(self, latency: float) -> None:
        self._latency = latency
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._next_request():
            pass

    def _next_request(self) -> bool:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(buffer[:end]).lower()
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            line_end = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
        if b"\r\ntransfer-encoding:" in head:
            self._send(_response(400, b'{"message":"chunked bodies unsupported"}', True), True)
            return False
        if len(buffer) < end + 4 + length:
            return False
        request_line = bytes(buffer[: buffer.find(b"\r\n")])
        body = bytes(buffer[end + 4 : end + 4 + length])
        del buffer[: end + 4 + length]
        method, target = request_line.split(b" ", 2)[:2]
        close = b"\r\nconnection: close" in head
        status, payload = route(method, target, body)
        answer = _response(status, payload, close)
        if self._latency > 0 and target != b"/__stats":
            self._loop.call_later(self._latency, self._send, answer, close)
        else:
            self._send(answer, close)
        return True

    def _send(self, answer: bytes, close: bool) -> None:
        if self._transport is None:
            return
        self._transport.write(answer)
        if close:
            self._transport.close()


async def _serve_raw(latency: float, ready: Callable[[int], None], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(latency), "127.0.0.1", 0, backlog=1024)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await stop.wait()


async def _serve_aiohttp(
    latency: float, ready: Callable[[int], None], stop: asyncio.Event
) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        target = request.raw_path.encode()
        status, payload = route(request.method.encode(), target, body)
        if latency > 0 and target != b"/__stats":
            await asyncio.sleep(latency)
        return web.Response(status=status, body=payload, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    ready(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def _main(impl: str, latency: float, max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # Stop when the harness closes our stdin (or dies), or when time runs out.
    # If stdin is a file or closed, only the time limit applies.
    with contextlib.suppress(OSError, ValueError):
        loop.add_reader(sys.stdin.fileno(), stop.set)
    loop.call_later(max_seconds, stop.set)

    def ready(port: int) -> None:
        print(port, flush=True)

    serve = _serve_raw if impl == "raw" else _serve_aiohttp
    await serve(latency, ready, stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--impl", choices=["raw", "aiohttp"], default="raw")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.impl, args.latency_ms / 1000.0, args.max_seconds))


if __name__ == "__main__":
    main()
