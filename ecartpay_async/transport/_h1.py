"""HTTP/1.1 on the wire, for the asyncio transport: request bytes out, responses parsed in.

Only the client side, and only what RFC 9112 asks of a client: a response's body is
framed by ``Transfer-Encoding: chunked``, else ``Content-Length``, else the connection
closing; ``HEAD`` answers and 1xx/204/304 have none; 1xx interim answers are skipped.
Anything malformed raises :class:`ProtocolViolation` and the connection is dropped.
"""

from __future__ import annotations

import httpx

__all__ = ["MAX_HEAD", "ProtocolViolation", "ResponseParser", "serialize"]

MAX_HEAD = 64 * 1024

Headers = list[tuple[bytes, bytes]]

_HEX = b"0123456789abcdefABCDEF"


class ProtocolViolation(Exception):
    """The peer sent something that is not a valid HTTP/1.1 response."""


def serialize(request: httpx.Request, body: bytes) -> bytes:
    """The request's bytes: request line, headers as httpx holds them, body."""
    lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)]
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise httpx.LocalProtocolError(f"illegal header {name!r}", request=request)
        lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)


class ResponseParser:
    """Feed bytes in; ``done`` turns true when one whole response has arrived."""

    def __init__(self, method: str) -> None:
        self._head_only = method == "HEAD"
        self._buffer = bytearray()
        self.status = 0
        self.reason = b""
        self.version = b"HTTP/1.1"
        self.headers: Headers = []
        self.keep_alive = True
        self.done = False
        self._body = bytearray()
        self._remaining = -1  # bytes left in the body or the current chunk; -1 unknown
        self._chunked = False
        self._until_eof = False
        self._in_head = True
        self._trailers = False

    @property
    def body(self) -> bytes:
        return bytes(self._body)

    @property
    def started(self) -> bool:
        """True once any byte of the answer arrived."""
        return bool(self._buffer) or self.status != 0 or self.done

    def feed(self, data: bytes) -> bool:
        """Consume ``data``; True when the response is complete."""
        self._buffer += data
        while not self.done:
            if self._in_head:
                if not self._parse_head():
                    return False
            elif self._chunked:
                if not self._parse_chunks():
                    return False
            elif self._until_eof:
                self._body += self._buffer
                self._buffer.clear()
                return False
            else:
                self._take_sized()
                if not self.done:
                    return False
        if self._buffer:
            raise ProtocolViolation("data after the end of the response")
        return True

    def feed_eof(self) -> bool:
        """The peer closed: True if that ends a close-delimited body; raises if cut off."""
        if self._until_eof and not self._in_head:
            self.done = True
            return True
        if self.done:
            return True
        if not self.started:
            raise ProtocolViolation("Server disconnected without sending a response.")
        raise ProtocolViolation("peer closed connection without sending complete message body")

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise ProtocolViolation("response head too large")
            return False
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        lines = head.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolViolation(f"malformed status line {lines[0][:80]!r}")
        headers: Headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip() or line[:1] in b" \t":
                raise ProtocolViolation(f"malformed header line {line[:80]!r}")
            headers.append((name, value.strip(b" \t")))
        status = int(code)
        if 100 <= status < 200:
            if status == 101:
                raise ProtocolViolation("unexpected protocol switch")
            return True  # interim answer: the real one follows
        self.status, self.reason, self.version, self.headers = status, reason, version, headers
        self._in_head = False
        self._frame(headers)
        return True

    def _frame(self, headers: Headers) -> None:
        length: bytes | None = None
        connection = b""
        chunked = False
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-length":
                if length is not None and length != value:
                    raise ProtocolViolation("conflicting Content-Length headers")
                length = value
            elif lower == b"transfer-encoding":
                chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
                if not chunked:
                    raise ProtocolViolation(f"unsupported Transfer-Encoding {value!r}")
            elif lower == b"connection":
                connection = value.lower()
        if self.version == b"HTTP/1.0":
            self.keep_alive = b"keep-alive" in connection
        else:
            self.keep_alive = b"close" not in connection
        if self._head_only or self.status in (204, 304):
            self.done = True
        elif chunked:
            self._chunked = True
        elif length is not None:
            if not length.isdigit():
                raise ProtocolViolation(f"malformed Content-Length {length!r}")
            self._remaining = int(length)
        else:
            self._until_eof = True
            self.keep_alive = False

    def _take_sized(self) -> None:
        take = min(self._remaining, len(self._buffer))
        self._body += self._buffer[:take]
        del self._buffer[:take]
        self._remaining -= take
        if self._remaining == 0:
            self.done = True

    def _parse_chunks(self) -> bool:
        buffer = self._buffer
        while True:
            if self._trailers:
                end = buffer.find(b"\r\n")
                if end < 0:
                    return False
                del buffer[: end + 2]
                if end == 0:
                    self.done = True
                    return True
            elif self._remaining > 0:
                take = min(self._remaining, len(buffer))
                if not take:
                    return False
                self._body += buffer[:take]
                del buffer[:take]
                self._remaining -= take
            elif self._remaining == 0:  # the CRLF after a chunk's data
                if len(buffer) < 2:
                    return False
                if buffer[:2] != b"\r\n":
                    raise ProtocolViolation("malformed chunk terminator")
                del buffer[:2]
                self._remaining = -1
            else:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > 1024:
                        raise ProtocolViolation("chunk size line too long")
                    return False
                size = bytes(buffer[:end]).split(b";", 1)[0].strip(b" \t")
                del buffer[: end + 2]
                if not size or size.strip(_HEX) or len(size) > 16:
                    raise ProtocolViolation(f"malformed chunk size {size[:20]!r}")
                self._remaining = int(size, 16)
                if self._remaining == 0:
                    self._trailers = True
