"""The trio lane (httpcore without httpx objects): what it puts on the wire, how its
failures are named, and its lifetime. Its bounds and error classes against misbehaving
servers are proven with the other stacks' (``test_bounds``, ``test_errors``: the
"lane" and "default" kinds)."""

from __future__ import annotations

import socket
import threading

import httpcore
import httpx
import pytest

from ecartpay_async.transport import TransportConfig
from ecartpay_async.transport._errors import from_httpcore
from ecartpay_async.transport._httpcore import HttpcoreSender

from .loopback import answer, serve

pytestmark = pytest.mark.anyio

TIMEOUTS = httpx.Timeout(5.0).as_dict()

NAMES = [
    "ConnectError", "ConnectTimeout", "PoolTimeout", "ReadTimeout", "WriteTimeout",
    "ReadError", "WriteError", "RemoteProtocolError", "LocalProtocolError", "ProxyError",
    "UnsupportedProtocol", "NetworkError", "TimeoutException", "ProtocolError",
]


@pytest.mark.parametrize("name", NAMES)
def test_each_httpcore_error_becomes_httpx_class_of_its_name(name: str) -> None:
    error = from_httpcore(getattr(httpcore, name)("detail"))
    assert type(error) is getattr(httpx, name)
    assert str(error) == "detail"


def test_a_subclass_maps_as_its_httpcore_base_and_others_are_not_mapped() -> None:
    class Refused(httpcore.ConnectError):
        pass

    assert type(from_httpcore(Refused())) is httpx.ConnectError
    assert from_httpcore(ValueError("no")) is None
    assert from_httpcore(httpcore.ConnectionNotAvailable()) is None


class _Key:
    def get(self) -> str:
        return "Bearer lane-token"


def _recording(heads: list[bytes]):  # type: ignore[no-untyped-def]
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head = data.partition(b"\r\n\r\n")[0]
        heads.append(head)
        conn.sendall(answer(200, b'{"ok":true}', b"X-Request-Id: req_1\r\n"))

    return behaviour


@pytest.mark.parametrize(
    ("method", "params", "content"),
    [
        ("POST", {"page": 2, "status": "paid"}, b'{"amount":"1.50"}'),
        ("PUT", None, None),  # a confirmation: no body, its length stated
        ("GET", {"reference_id": "a b&c"}, None),
    ],
)
async def test_the_request_carries_what_httpx_would_put_on_the_wire(
    anyio_backend: str, method: str, params: dict[str, object] | None, content: bytes | None
) -> None:
    heads: list[bytes] = []
    with serve(_recording(heads)) as server:
        sender = HttpcoreSender(TransportConfig(trust_env=False), max_response_bytes=1024)
        try:
            reply = await sender.send(
                method, server.url + "/api/payouts", params,
                {"User-Agent": "ua/1", "Content-Type": "application/json"}, _Key(),
                content, TIMEOUTS,
            )
        finally:
            await sender.aclose()
    assert reply.status_code == 200
    assert reply.reason_phrase == "X"
    assert reply.headers["x-request-id"] == "req_1"  # case-insensitive, as httpx's
    assert reply.content == b'{"ok":true}'
    line, *fields = heads[0].split(b"\r\n")
    expected = httpx.Request(
        method, server.url + "/api/payouts", params=params,
        headers={"User-Agent": "ua/1", "Content-Type": "application/json",
                 "Authorization": "Bearer lane-token"},
        content=content,
    )
    assert line == method.encode() + b" " + expected.url.raw_path + b" HTTP/1.1"
    sent = sorted((k.lower(), v) for k, v in (field.split(b": ", 1) for field in fields))
    assert sent == sorted((k.lower(), v) for k, v in expected.headers.raw)


async def test_a_closed_sender_opens_nothing(anyio_backend: str) -> None:
    sender = HttpcoreSender(TransportConfig(trust_env=False), max_response_bytes=1024)
    await sender.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await sender.send("GET", "http://127.0.0.1:9/", None, {}, _Key(), None, TIMEOUTS)
