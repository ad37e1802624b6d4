"""The HTTP/1.1 response parser and request writer of the asyncio transport."""

from __future__ import annotations

import httpx
import pytest

from ecartpay_async.transport._h1 import ProtocolViolation, ResponseParser, serialize


def parse(*parts: bytes, method: str = "GET") -> ResponseParser:
    parser = ResponseParser(method)
    for part in parts[:-1]:
        assert not parser.feed(part)
    assert parser.feed(parts[-1])
    return parser


def test_sized_body_in_pieces() -> None:
    p = parse(b"HTTP/1.1 200 OK\r\nContent-Le", b"ngth: 5\r\n\r\nhe", b"llo")
    assert (p.status, p.reason, p.body, p.keep_alive) == (200, b"OK", b"hello", True)
    assert p.headers == [(b"Content-Length", b"5")]


def test_chunked_body_split_everywhere() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
    )
    parser = ResponseParser("GET")
    done = [parser.feed(raw[i : i + 1]) for i in range(len(raw))]
    assert done[-1]
    assert not any(done[:-1])
    assert parser.body == b"abcde"


def test_close_delimited_body_ends_at_eof() -> None:
    parser = ResponseParser("GET")
    assert not parser.feed(b"HTTP/1.0 200 OK\r\n\r\nall of it")
    assert parser.feed_eof()
    assert parser.body == b"all of it"
    assert not parser.keep_alive


def test_interim_answers_are_skipped_and_bodiless_statuses() -> None:
    p = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert p.status == 204
    assert p.body == b""
    assert parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", method="HEAD").body == b""


def test_connection_semantics() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    assert not parse(closing).keep_alive
    assert not parse(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive
    kept = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
    assert parse(kept).keep_alive


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab",
        b"HTTP/1.1 101 Switching\r\n\r\n",
    ],
)
def test_malformed_answers_are_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        ResponseParser("GET").feed(raw)


def test_eof_before_or_inside_an_answer() -> None:
    with pytest.raises(ProtocolViolation, match="without sending a response"):
        ResponseParser("GET").feed_eof()
    parser = ResponseParser("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(ProtocolViolation, match="complete message body"):
        parser.feed_eof()


def test_serialize_writes_what_httpx_holds_and_refuses_header_injection() -> None:
    request = httpx.Request("POST", "http://h:81/a%20b?q=1", headers={"X-A": "1"}, content=b"{}")
    data = serialize(request, request.content)
    assert data.startswith(b"POST /a%20b?q=1 HTTP/1.1\r\nHost: h:81\r\n")
    assert data.endswith(b"\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n{}")
    bad = httpx.Request("GET", "http://h/", headers={"X-A": "1\r\nX-Evil: 1"})
    with pytest.raises(httpx.LocalProtocolError):
        serialize(bad, b"")
