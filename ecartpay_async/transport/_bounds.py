"""Every attempt bounded in time and in size, whatever sends it.

``exchange`` runs one request through any ``send`` (a transport's
``handle_async_request``, or a user's ``AsyncClient.send(..., stream=True)``), of
either httpx generation (``httpx`` or ``httpx2``: the same API, distinct classes; the
answer's own module is used):

- **Time.** The whole attempt, from waiting for a connection to the answer's last
  byte, runs under one deadline: the largest of the request's ``timeout`` phases
  (``timeout=10`` gives 10 s). The phases still apply inside it, but a server that
  trickles one byte per second defeats a read timeout, never this deadline.
- **Size.** The answer is read as a stream and decoded as it comes (gzip included),
  in small raw slices so that one slice of a decompression bomb inflates to about a
  megabyte at most; reading stops as soon as the decoded body passes
  ``max_bytes``. A ``Content-Length`` already over the limit fails before any read.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx

from ._exceptions import AttemptTimeout, ResponseTooLarge
from ._reply import WholeReply

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES", "deadline_of", "decoded_headers", "exchange", "read_capped",
]

#: Payout answers are under 2 KB and list pages tens of KB: 4 MiB leaves room for both.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024

# Raw bytes handed to a decoder at once: deflate inflates at most ~1032:1, so a
# kilobyte of a bomb becomes about a megabyte before the limit is checked again.
_SLICE = 1024
# Decoded bytes per inflate call (:func:`read_capped`): a bomb grows a step at a time.
_INFLATE_STEP = 1024 * 1024


def deadline_of(phases: dict[str, float | None]) -> float | None:
    """The attempt's overall bound: the largest of its timeout phases."""
    values = [value for value in phases.values() if value is not None]
    return max(values) if values else None


async def read_capped(
    chunks: AsyncIterable[bytes], encoding: str, limit: int, status: int
) -> bytes:
    """A body read from raw ``chunks`` and decoded (``encoding``: the answer's
    Content-Encoding, lower-cased: none, ``identity``, ``gzip`` or ``deflate``), with
    :class:`ResponseTooLarge` as soon as the decoded body passes ``limit``. The senders
    that drive a stack without httpx's decoders (:mod:`._direct`, :mod:`._httpcore`)
    read through this."""
    body = bytearray()
    if encoding in ("", "identity"):
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise ResponseTooLarge(limit, status)
        return bytes(body)
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    else:
        raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}")
    try:
        async for chunk in chunks:
            data = chunk
            while data:
                body += inflater.decompress(data, _INFLATE_STEP)
                if len(body) > limit:
                    raise ResponseTooLarge(limit, status)
                data = inflater.unconsumed_tail
        body += inflater.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(f"cannot decode the {encoding} answer: {exc}") from None
    if len(body) > limit:
        raise ResponseTooLarge(limit, status)
    return bytes(body)


async def exchange(
    send: Callable[[httpx.Request], Awaitable[httpx.Response]],
    request: httpx.Request,
    max_bytes: int,
) -> WholeReply:
    """Send ``request`` and read its answer whole, within the deadline and ``max_bytes``.

    Returns the answer with its decoded body (the streamed response is closed): no
    private attribute of httpx's response is written, and no second response built.
    """
    deadline = deadline_of(request.extensions.get("timeout", {}))
    with anyio.move_on_after(deadline) as scope:
        streamed = await send(request)
        try:
            body = await _read_within(streamed, request, max_bytes)
        finally:
            await streamed.aclose()
        return _whole(streamed, body)
    assert deadline is not None
    assert scope.cancelled_caught
    raise AttemptTimeout(deadline, request=request)


def _whole(streamed: httpx.Response, body: bytes) -> WholeReply:
    """The answer with its body read and decoded: the same status and headers, less
    the encoding headers that described the bytes on the wire."""
    return WholeReply(
        streamed.status_code, streamed.reason_phrase, decoded_headers(streamed.headers), body
    )


def decoded_headers(headers: httpx.Headers) -> httpx.Headers:
    """``headers`` as they describe a decoded body: without the ``Content-Encoding`` and
    ``Content-Length`` of the bytes on the wire (a copy; the same object if unencoded)."""
    if "content-encoding" not in headers:
        return headers
    headers = headers.copy()
    del headers["content-encoding"]
    headers.pop("content-length", None)
    return headers


async def _read_within(
    response: httpx.Response, request: httpx.Request, max_bytes: int
) -> bytes:
    headers = response.headers
    encoded = "content-encoding" in headers
    length = headers.get("content-length", "")
    if not encoded and length.isdigit() and int(length) > max_bytes:
        raise ResponseTooLarge(max_bytes, response.status_code, request=request)
    stream = response.stream
    byte_stream = _module_of(response).AsyncByteStream
    parts: AsyncIterator[bytes]
    if encoded or not isinstance(stream, byte_stream) or response.is_stream_consumed:
        if isinstance(stream, byte_stream) and not response.is_stream_consumed:
            response.stream = _sliced(stream)
        parts = response.aiter_bytes()
    else:
        # Nothing to decode: the raw bytes are the content. Reading the stream itself
        # spares httpx's decoder and chunker machinery, a fifth of a payout's CPU; the
        # streamed response is then only closed, never read.
        parts = aiter(stream)
    body = bytearray()
    try:
        async for part in parts:
            body += part
            if len(body) > max_bytes:
                raise ResponseTooLarge(max_bytes, response.status_code, request=request)
    finally:
        # Close the iterators now, not when the garbage collector finds them.
        close = getattr(parts, "aclose", None)
        if close is not None:
            await close()
    return bytes(body)


def _module_of(response: Any) -> Any:
    """``httpx`` or ``httpx2``: the package the response's class comes from."""
    return sys.modules[type(response).__module__.partition(".")[0]]


def _sliced(stream: Any) -> Any:
    """``stream`` re-cut by a :class:`_SlicedBase` of its own httpx generation (httpx
    reads only a stream of its own ``AsyncByteStream`` class)."""
    base = _module_of(stream).AsyncByteStream
    sliced = _SLICED.get(base)
    if sliced is None:
        sliced = _SLICED[base] = type("Sliced", (_SlicedBase, base), {})
    return sliced(stream)


class _SlicedBase:
    """A raw body stream re-cut into small pieces, so each decode step stays small."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = aiter(self._stream)
        try:
            async for chunk in chunks:
                if len(chunk) <= _SLICE:
                    yield chunk
                    continue
                view = memoryview(chunk)
                for start in range(0, len(chunk), _SLICE):
                    yield bytes(view[start : start + _SLICE])
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    async def aclose(self) -> None:
        await self._stream.aclose()


_SLICED: dict[type, type] = {}
