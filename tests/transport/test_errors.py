"""Each way a server can fail, and the httpx exception each transport must raise for it.

The pipeline decides "never sent, safe to resend" (ConnectError, ConnectTimeout,
PoolTimeout) against "may have been processed, look up first" (everything else) from
these classes, so each mapping is proven against a real misbehaving loopback server,
for the SDK's default transport on asyncio (aiohttp) and on trio (httpx's own, sharded)
and for httpx's transport on asyncio.
"""

from __future__ import annotations

import socket
import threading
from decimal import Decimal

import anyio
import httpx
import pytest

from ecartpay_async import APIConnectionError, AsyncClient, PayoutRequest, RetryPolicy
from ecartpay_async._http import Attempt

from .loopback import TRANSPORTS, Api, make_transport, read_request, reset, send, serve

pytestmark = pytest.mark.anyio

SHORT = httpx.Timeout(5.0, connect=0.3, read=0.3, pool=0.2)
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
AMBIGUOUS = (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError)


@pytest.fixture(params=TRANSPORTS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def transport_for(kind: str, backend: str, connections: int = 4) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return make_transport(kind, backend, limits)


async def test_refused_connection_is_a_connect_error(kind: str, anyio_backend: str) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with transport_for(kind, anyio_backend) as transport:
        with pytest.raises(httpx.ConnectError) as caught:
            await send(transport, "GET", f"http://127.0.0.1:{port}/", timeout=SHORT)
    assert caught.value.request.url.port == port


async def test_full_accept_queue_is_a_connect_timeout(kind: str, anyio_backend: str) -> None:
    # A listener that never accepts, its backlog already full: SYNs go unanswered.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        try:
            async with transport_for(kind, anyio_backend) as transport:
                with pytest.raises(httpx.ConnectTimeout):
                    await send(transport, "GET", f"http://127.0.0.1:{port}/", timeout=SHORT)
        finally:
            for filler in fillers:
                filler.close()


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    stop.wait(10)


async def test_no_answer_is_a_read_timeout(kind: str, anyio_backend: str) -> None:
    with serve(_silent) as server:
        async with transport_for(kind, anyio_backend) as transport:
            with pytest.raises(httpx.ReadTimeout):
                await send(transport, "POST", server.url + "/", content=b"{}", timeout=SHORT)


def _reset_while_reading(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(1024)
    reset(conn)


async def test_reset_during_upload_is_a_write_error(kind: str, anyio_backend: str) -> None:
    body = b"x" * (32 * 1024 * 1024)  # far more than the socket buffers hold
    with serve(_reset_while_reading) as server:
        async with transport_for(kind, anyio_backend) as transport:
            with pytest.raises(httpx.TransportError) as caught:
                await send(transport, "POST", server.url + "/", content=body)
    # aiohttp and httpcore often read the reset before they notice the failed write
    # (ReadError, RemoteProtocolError): all on the "may have been processed" side.
    assert isinstance(caught.value, AMBIGUOUS)
    assert not isinstance(caught.value, NEVER_SENT)


def _reset_after_request(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    reset(conn)


async def test_reset_after_request_is_a_read_error(kind: str, anyio_backend: str) -> None:
    with serve(_reset_after_request) as server:
        async with transport_for(kind, anyio_backend) as transport:
            with pytest.raises(httpx.ReadError):
                await send(transport, "POST", server.url + "/", content=b"{}")


def _close_after_request(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)


def _garbage(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HELLO THERE\r\n\r\n")


def _cut_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":")


@pytest.mark.parametrize("behaviour", [_close_after_request, _garbage, _cut_body],
                         ids=["closed-without-answer", "garbage", "cut-off-body"])
async def test_broken_answers_are_remote_protocol_errors(
    kind: str, anyio_backend: str, behaviour: object
) -> None:
    with serve(behaviour) as server:  # type: ignore[arg-type]
        async with transport_for(kind, anyio_backend) as transport:
            with pytest.raises(httpx.RemoteProtocolError):
                await send(transport, "POST", server.url + "/", content=b"{}")


async def test_waiting_for_a_connection_is_a_pool_timeout(kind: str, anyio_backend: str) -> None:
    with serve(_silent) as server:
        async with transport_for(kind, anyio_backend, connections=1) as transport:
            first_sent = anyio.Event()

            async def occupy() -> None:
                first_sent.set()
                await send(transport, "GET", server.url + "/hang")

            async with anyio.create_task_group() as group:
                group.start_soon(occupy)
                await first_sent.wait()
                await anyio.wait_all_tasks_blocked()
                # aiohttp bounds the wait for a connection and the handshake with
                # one timer (its ``connect``): ConnectTimeout on the aiohttp lane.
                # Either means never sent.
                aiohttp_lane = kind == "lane" and anyio_backend == "asyncio"
                expected = httpx.ConnectTimeout if aiohttp_lane else httpx.PoolTimeout
                with pytest.raises(expected):
                    await send(transport, "GET", server.url + "/", timeout=SHORT)
                group.cancel_scope.cancel()


# -- through the SDK: which failures of a payout POST count as "may have been processed" --


def _reset_after_post(conn: socket.socket, stop: threading.Event) -> None:
    reset(conn)


def _closed_after_post(conn: socket.socket, stop: threading.Event) -> None:
    return  # the connection closes without an answer


def _garbage_after_post(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HELLO THERE\r\n\r\n")


def _cut_after_post(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":")


def _silent_after_post(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(10)


AFTER_POST = [_reset_after_post, _closed_after_post, _garbage_after_post, _cut_after_post,
              _silent_after_post]


async def _no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def _sdk(url: str, kind: str, anyio_backend: str) -> AsyncClient:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    return AsyncClient("pub", "priv", base_url=url, timeout=SHORT,
                       transport=make_transport(kind, anyio_backend, limits),
                       retry_policy=RetryPolicy(sleep=_no_wait))


def _payout(reference: str) -> PayoutRequest:
    return PayoutRequest(email="ana@example.com", reference_id=reference,
                         amount=Decimal("3.00"), currency="MXN")


@pytest.mark.parametrize("misbehave", AFTER_POST, ids=lambda f: f.__name__.strip("_"))
async def test_a_post_that_reached_the_server_is_looked_up_before_resending(
    kind: str, anyio_backend: str, misbehave: object
) -> None:
    api = Api(misbehave)  # type: ignore[arg-type]
    attempts: list[Attempt] = []
    with serve(api) as server:
        async with _sdk(server.url, kind, anyio_backend) as client:
            result = await client.payouts.send(
                _payout("ambiguous-1"), max_retries=1, on_attempt=attempts.append
            )
    first = attempts[0].error
    assert isinstance(first, APIConnectionError)
    assert first.maybe_processed is True
    assert result.recovered  # the lookup found it: not sent a second time
    assert api.posts == 1
    assert api.lookups == 1


async def test_a_post_that_could_not_connect_is_never_sent(
    kind: str, anyio_backend: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with _sdk(f"http://127.0.0.1:{port}", kind, anyio_backend) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.payouts.send(_payout("refused-1"), max_retries=0)
    assert caught.value.maybe_processed is False
