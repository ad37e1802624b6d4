"""Errors: status classes, attributes, bodies that are not JSON, connection failures."""

from __future__ import annotations

import email.utils
import re
import time

import httpx
import pytest
from client_fakes import PAYOUTS, jresp, payout_json

import ecartpay_async
from ecartpay_async import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EcartPayError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    errors,
)

pytestmark = pytest.mark.anyio

PATH = f"{PAYOUTS}/p1"


async def _fail(client, router, response, **kwargs) -> BaseException:
    router.get(PATH).mock(return_value=response)
    with pytest.raises(EcartPayError) as info:
        await client.payouts.retrieve("p1", max_retries=0, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_status_maps_to_class_with_attributes(status, cls, client, router):
    body = {"message": f"something about {status}", "statusCode": status}
    error = await _fail(client, router, jresp(status, body))
    assert type(error) is cls
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert error.message == f"something about {status}"
    assert error.body == body
    assert error.method == "GET"
    assert error.path == PATH
    assert str(error) == f"{status} GET {PATH}: something about {status}"


async def test_rate_limit_retry_after_seconds(client, router):
    error = await _fail(client, router, jresp(429, {"message": "slow down"},
                                              {"Retry-After": "7"}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0
    assert error.headers == {"retry-after": "7", "content-type": "application/json"}


@pytest.mark.clock
async def test_rate_limit_retry_after_http_date(client, router):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    error = await _fail(client, router, httpx.Response(429, headers={"Retry-After": when}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is not None
    assert 25 < error.retry_after <= 30


@pytest.mark.parametrize("value", [None, "soon", ""])
async def test_rate_limit_without_usable_retry_after(value, client, router):
    headers = {} if value is None else {"Retry-After": value}
    error = await _fail(client, router, httpx.Response(429, headers=headers))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None
    assert error.message == "Too Many Requests"


async def test_only_safe_headers_are_kept(client, router):
    response = jresp(500, {"message": "x"}, {
        "Set-Cookie": "session=abc", "X-Request-Id": "req-1", "Authorization": "leak",
    })
    error = await _fail(client, router, response)
    assert error.headers == {"content-type": "application/json", "x-request-id": "req-1"}


async def test_html_502_page_gives_a_typed_error_with_a_short_excerpt(client, router):
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
        "<h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p>"
        + "<div>padding</div>" * 500 + "</body></html>"
    )
    error = await _fail(client, router, httpx.Response(
        502, text=page, headers={"content-type": "text/html"}
    ))
    assert isinstance(error, InternalServerError)
    assert error.status_code == 502
    assert isinstance(error.body, str)
    assert "Bad Gateway" in error.body
    assert "<" not in error.body
    assert len(error.body) <= 201
    assert error.message == error.body
    assert len(str(error)) < 300


@pytest.mark.parametrize(
    "content",
    [b'{"id": "p1", "status": "pa', b"<html>oops</html>", b"\xff\xfe\x00garbage", b"[1, 2"],
)
async def test_garbled_200_is_a_response_error_with_excerpt(content, client, router):
    error = await _fail(client, router, httpx.Response(200, content=content))
    assert type(error) is APIResponseError
    assert error.status_code == 200
    assert error.method == "GET"
    assert error.path == PATH
    assert isinstance(error.body, str)
    assert len(error.body) <= 201
    assert "not valid JSON" in error.message


async def test_truncated_json_error_body_is_kept_as_text(client, router):
    error = await _fail(client, router, httpx.Response(400, content=b'{"message": "bad am'))
    assert isinstance(error, BadRequestError)
    assert error.body == '{"message": "bad am'
    assert error.message == '{"message": "bad am'


async def test_empty_bodies(client, router):
    error = await _fail(client, router, httpx.Response(200))
    assert type(error) is APIResponseError  # an empty 200 is not a payout
    assert "Payout" in error.message
    error = await _fail(client, router, httpx.Response(500))
    assert isinstance(error, InternalServerError)
    assert error.message == "Internal Server Error"
    assert error.body is None


@pytest.mark.parametrize(
    "body", [{"ok": True}, [], {"id": "p1"}, {"message": "done"}, "paid", 12, {"docs": []}]
)
async def test_unknown_2xx_shape_for_a_payout(body, client, router):
    error = await _fail(client, router, jresp(200, body))
    assert type(error) is APIResponseError
    assert error.path == PATH


async def test_message_list_is_kept(client, router):
    """NestJS-style validation answers carry a list of messages."""
    body = {"statusCode": 400, "message": ["amount must be positive", "email must be an email"],
            "error": "Bad Request"}
    error = await _fail(client, router, jresp(400, body))
    assert "amount must be positive" in error.message
    assert "email must be an email" in error.message
    assert error.body == body


async def test_message_falls_back_to_error_or_reason(client, router):
    error = await _fail(client, router, jresp(404, {"error": "payout not found"}))
    assert error.message == "payout not found"
    error = await _fail(client, router, jresp(404, {"statusCode": 404}))
    assert error.message == "Not Found"


@pytest.mark.parametrize(
    ("exc", "cls", "maybe_processed"),
    [
        (httpx.ConnectError("connection refused"), APIConnectionError, False),
        (httpx.ConnectTimeout("connect timed out"), APITimeoutError, False),
        (httpx.PoolTimeout("pool busy"), APITimeoutError, False),
        (httpx.ReadTimeout("read timed out"), APITimeoutError, True),
        (httpx.WriteTimeout("write timed out"), APITimeoutError, True),
        (httpx.RemoteProtocolError("peer closed connection"), APIConnectionError, True),
        (httpx.ReadError("connection reset"), APIConnectionError, True),
    ],
)
async def test_transport_errors(exc, cls, maybe_processed, client, router):
    router.get(PATH).mock(side_effect=exc)
    with pytest.raises(APIConnectionError) as info:
        await client.payouts.retrieve("p1", max_retries=0)
    error = info.value
    assert type(error) is cls
    assert error.maybe_processed is maybe_processed
    assert error.method == "GET"
    assert error.path == PATH
    assert type(exc).__name__ in error.message
    assert error.__cause__ is exc


def test_hierarchy_is_drawn_in_the_docstring_and_exported():
    doc = errors.__doc__
    assert doc is not None
    names = [
        "EcartPayError", "ConfigurationError", "ValidationError", "IdempotencyConflictError",
        "APIConnectionError", "APITimeoutError", "APIResponseError", "APIStatusError",
        "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
        "ConflictError", "UnprocessableEntityError", "RateLimitError", "InternalServerError",
    ]
    for name in names:
        assert name in doc, name
        cls = getattr(ecartpay_async, name)
        assert issubclass(cls, EcartPayError)
        assert name in ecartpay_async.__all__
    # The tree as drawn.
    assert issubclass(APITimeoutError, APIConnectionError)
    for name in names[8:]:
        assert issubclass(getattr(ecartpay_async, name), APIStatusError)
    assert issubclass(APIConnectionError, APIError)
    assert not issubclass(APIResponseError, APIStatusError)
    assert not issubclass(ecartpay_async.IdempotencyConflictError, APIError)
    # Each class sits on its own line, indented under its parent.
    lines = {m.group(1): line for line in doc.splitlines() if (m := re.search(r"── (\w+)", line))}
    assert lines["APITimeoutError"].index("APITimeoutError") > lines[
        "APIConnectionError"].index("APIConnectionError")
    assert lines["RateLimitError"].index("RateLimitError") > lines["APIStatusError"].index(
        "APIStatusError")


async def test_a_good_answer_after_errors_still_parses(client, router):
    router.get(PATH).mock(side_effect=[httpx.Response(503), jresp(200, payout_json(id="p1"))])
    assert (await client.payouts.retrieve("p1")).id == "p1"


@pytest.mark.parametrize(
    ("http_status", "body", "declared"),
    [
        (500, {"message": "payouts validation failed", "statusCode": 400}, 400),  # the file's
        (500, b'{"message": "x", "statusCode": 422}', 422),
        (502, {"message": "x", "statusCode": 409}, 409),
        (500, {"message": "x", "statusCode": 500}, 500),
        (500, {"message": "x", "statusCode": 399}, 500),
        (500, {"message": "x", "statusCode": "400"}, 500),  # a number, not text
        (500, {"message": "x", "statusCode": True}, 500),
        (500, b"<html>500 Internal Server Error</html>", 500),
        (500, b"{not json", 500),
        (500, None, 500),
        (409, {"message": "x", "statusCode": 400}, 409),  # a 4xx is a refusal already
        (429, {"message": "x", "statusCode": 400}, 429),
    ],
)
def test_the_declared_status_of_an_error_answer(http_status, body, declared):
    assert errors.declared_status(http_status, body) == declared


def test_a_declared_refusal_keeps_the_http_status_in_its_message():
    error = BadRequestError("bad", status_code=400, http_status=500, method="POST",
                            path="/api/payouts")
    assert (error.status_code, error.http_status) == (400, 500)
    assert str(error) == "400 (HTTP 500) POST /api/payouts: bad"
    plain = BadRequestError("bad", status_code=400, method="POST", path="/api/payouts")
    assert plain.http_status == 400
    assert str(plain) == "400 POST /api/payouts: bad"
