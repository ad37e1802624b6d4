"""Logging: a DEBUG line per request, INFO on retries and recoveries; and no secret, ever."""

from __future__ import annotations

import base64
import logging
import socket
import sys
import traceback
from decimal import Decimal

import anyio
import httpx
import pytest
from client_fakes import (
    BASE,
    BASIC,
    PAYOUTS,
    PRIVATE,
    PUBLIC,
    REQUEST,
    TOKEN,
    TOKEN2,
    build_client,
    jresp,
    payout_json,
    token_response,
)

from ecartpay_async import AsyncClient, EcartPayError, PayoutRequest, RetryPolicy
from ecartpay_async.sandbox import Sandbox

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

pytestmark = pytest.mark.anyio

PATH = f"{PAYOUTS}/p1"


def _lines(caplog, level=None):
    return [r for r in caplog.records if r.name == "ecartpay_async"
            and (level is None or r.levelno == level)]


async def test_debug_line_per_request(client, router, caplog):
    caplog.set_level(logging.DEBUG, logger="ecartpay_async")
    router.get(PATH).mock(return_value=jresp(200, payout_json(id="p1")))
    await client.payouts.retrieve("p1")
    token_line, get_line = _lines(caplog, logging.DEBUG)
    assert token_line.getMessage().startswith("POST /api/authorizations/token -> 200 (attempt 1,")
    method, path, status, attempt, duration_ms = get_line.args
    assert (method, path, status, attempt) == ("GET", PATH, 200, 1)
    assert isinstance(duration_ms, float)
    assert duration_ms >= 0
    assert get_line.getMessage().endswith(" ms)")


async def test_debug_lines_number_the_attempts(client, router, caplog):
    caplog.set_level(logging.DEBUG, logger="ecartpay_async")
    router.get(PATH).mock(side_effect=[httpx.Response(500), httpx.ConnectError("refused"),
                                       jresp(200, payout_json(id="p1"))])
    await client.payouts.retrieve("p1")
    lines = [r.args for r in _lines(caplog, logging.DEBUG) if r.args[1] == PATH]
    assert [(a[2], a[3]) for a in lines] == [(500, 1), ("APIConnectionError", 2), (200, 3)]


async def test_debug_lines_number_token_attempts(client, router, caplog):
    caplog.set_level(logging.DEBUG, logger="ecartpay_async")
    router["token"].mock(side_effect=[httpx.Response(502), token_response()])
    router.get(PATH).mock(return_value=jresp(200, payout_json(id="p1")))
    await client.payouts.retrieve("p1")
    lines = [r.args for r in _lines(caplog, logging.DEBUG) if r.args[1] != PATH]
    assert [(a[2], a[3]) for a in lines] == [(502, 1), (200, 2)]


async def test_info_on_retry_and_recovery(client, router, caplog):
    caplog.set_level(logging.DEBUG, logger="ecartpay_async")
    router.get(PATH).mock(side_effect=[jresp(503, {"message": "maintenance"}),
                                       jresp(200, payout_json(id="p1"))])
    await client.payouts.retrieve("p1")
    (retry,) = _lines(caplog, logging.INFO)
    text = retry.getMessage()
    assert text.startswith(f"retrying GET {PATH} in ")
    assert "InternalServerError: maintenance" in text
    assert "(retry 1 of 2)" in text
    caplog.clear()
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    router.get(PAYOUTS).mock(return_value=jresp(200, [payout_json()]))
    await client.payouts.create(**REQUEST)
    infos = [r.getMessage() for r in _lines(caplog, logging.INFO)]
    assert any("APITimeoutError" in m and "POST /api/payouts" in m for m in infos)
    assert any("recovered by reference_id lookup" in m for m in infos)


async def test_warning_when_the_server_asks_to_slow_down(client, router, caplog):
    caplog.set_level(logging.DEBUG, logger="ecartpay_async")
    router.get(PATH).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "2"}),
                                       jresp(200, payout_json(id="p1"))])
    await client.payouts.retrieve("p1")
    (warning,) = _lines(caplog, logging.WARNING)
    assert "pausing requests for 2.00s" in warning.getMessage()


# -- the secrets test ---------------------------------------------------------------------------


def _jwt_parts(token: str) -> list[str]:
    _, payload, signature = token.split(".")
    return [token, payload, signature]


SECRETS = {
    "public key": PUBLIC,
    "private key": PRIVATE,
    "basic credentials": BASIC,
    "key pair": f"{PUBLIC}:{PRIVATE}",
    **{f"token part {i}": part for i, part in enumerate(_jwt_parts(TOKEN))},
    **{f"token2 part {i}": part for i, part in enumerate(_jwt_parts(TOKEN2))},
}


def _exception_texts(exc: BaseException) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [repr(current), str(current), *map(repr, current.args)]
        texts.append("".join(traceback.format_exception(current)))
        for name in ("body", "headers", "message", "existing", "differences", "method", "path"):
            if hasattr(current, name):
                texts += [repr(getattr(current, name)), str(getattr(current, name))]
        if hasattr(current, "__dict__"):
            texts.append(repr(vars(current)))
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack += [current.__cause__, current.__context__]
    return texts


@pytest.mark.clock
async def test_no_secret_in_logs_reprs_or_errors(router, http_client, clock, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("ecartpay_async", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)

    texts: list[str] = []
    errors: list[BaseException] = []

    async def expect_failure(coro) -> None:
        try:
            await coro
        except EcartPayError as exc:
            errors.append(exc)
        else:
            raise AssertionError("expected a failure")

    router["token"].mock(side_effect=[httpx.Response(503), token_response(TOKEN),
                                      token_response(TOKEN2)])
    client = build_client(http_client, clock, max_retries=3)
    attempts = []
    async with client:
        # 401 replay with a token refresh, after a retried token request.
        router.get(PATH).mock(side_effect=[
            jresp(401, {"message": "jwt expired", "statusCode": 401}),
            jresp(200, payout_json(id="p1")),
        ])
        texts.append(repr(await client.payouts.retrieve("p1")))
        # An ambiguous create recovered by lookup.
        router.post(PAYOUTS).mock(side_effect=[httpx.ReadTimeout("lost"),
                                               jresp(409, {"message": "reference_id used"})])
        router.get(PAYOUTS).mock(return_value=jresp(200, [payout_json()]))
        result = await client.payouts.send(PayoutRequest(**REQUEST), on_attempt=attempts.append)
        texts += [repr(result), str(result.payout)]
        # A reuse resolved to a conflict.
        await expect_failure(client.payouts.create(**{**REQUEST, "amount": Decimal(3)}))
        # Rate limited then a proxy's HTML page, then a connection that never works.
        router.get(PATH).mock(side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(502, text=f"<html>upstream {BASE} failed</html>"),
            httpx.Response(502, text="<html>bad gateway</html>"),
            httpx.Response(502, text="<html>bad gateway</html>"),
        ])
        await expect_failure(client.payouts.retrieve("p1"))
        router.get(PATH).mock(side_effect=httpx.ConnectError("connection refused"))
        await expect_failure(client.payouts.retrieve("p1"))
        router.get(PATH).mock(side_effect=httpx.RemoteProtocolError("peer closed"))
        await expect_failure(client.with_options(max_retries=0).payouts.retrieve("p1"))
        router.get(PATH).mock(return_value=httpx.Response(200, content=b'{"id": "p1'))
        await expect_failure(client.payouts.retrieve("p1", max_retries=0))
        # Validation refused before sending.
        await expect_failure(client.payouts.create(**{**REQUEST, "email": "nope"}))
        # A list.
        router.get(PAYOUTS).mock(return_value=jresp(200, [payout_json(), payout_json(id="x")]))
        texts += [repr(p) async for p in client.payouts.list()]
        texts += [repr(client), str(client), repr(client.with_options(timeout=3)),
                  repr(client.payouts), repr(client._http.tokens), str(client._http.tokens),
                  repr(attempts)]

    # Bad keys.
    router["token"].mock(return_value=jresp(401, {"message": "Unauthorized", "statusCode": 401}))
    other = build_client(http_client, clock)
    await expect_failure(other.payouts.retrieve("p1"))
    # Keys missing: the configuration error must not echo the other key.
    with pytest.raises(EcartPayError) as info:
        AsyncClient(PUBLIC, None, retry_policy=RetryPolicy(sleep=clock.sleep))
    errors.append(info.value)
    # Concurrent failures inside a task group (an exception group).
    router["token"].mock(return_value=token_response(TOKEN))
    router.get(PATH).mock(return_value=jresp(500, {"message": "boom"}))
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(other.payouts.retrieve, "p1", max_retries=0)
    except BaseExceptionGroup as group:
        errors.append(group)
    await other.aclose()

    assert len(errors) == 9
    for error in errors:
        texts += _exception_texts(error)
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.msg), repr(record.args)]
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    assert len(caplog.records) > 20  # the scenario really logged
    assert any(r.name == "httpx" for r in caplog.records)
    haystack = "\n".join(texts)
    assert "jwt expired" in haystack or "reference_id" in haystack  # sanity: it is all there
    leaks = [name for name, secret in SECRETS.items() if secret in haystack]
    assert leaks == []


async def test_debug_lines_number_confirm_attempts(client, router, caplog):
    caplog.set_level(logging.DEBUG, logger="ecartpay_async")
    path = f"{PATH}/confirm"
    router.put(path).mock(side_effect=[httpx.Response(503), jresp(200, payout_json(id="p1"))])
    await client.payouts.confirm("p1")
    lines = [r.args for r in _lines(caplog, logging.DEBUG) if r.args[1] == path]
    assert [(a[0], a[2], a[3]) for a in lines] == [("PUT", 503, 1), ("PUT", 200, 2)]


# -- frame locals: what an error tracker records (Sentry's include_local_variables) ------------


def _recorded_texts(value: object, texts: list[str], seen: set[int], depth: int = 0) -> None:
    """What a tracker serialises from one local: containers walked, everything else repr()."""
    if id(value) in seen or depth > 8:
        return
    seen.add(id(value))
    if isinstance(value, (str, bytes, bytearray)):
        texts.append(value if isinstance(value, str) else bytes(value).decode("latin-1"))
    elif isinstance(value, dict):
        for key, item in value.items():
            _recorded_texts(key, texts, seen, depth + 1)
            _recorded_texts(item, texts, seen, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _recorded_texts(item, texts, seen, depth + 1)
    else:
        texts.append(repr(value))
        texts.append(str(value))


def _traceback_frames(exc: BaseException):
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack += [current.__cause__, current.__context__]


def _leaks_in_frames(exc: BaseException, secrets: dict[str, str]) -> list[str]:
    leaks = []
    for frame in _traceback_frames(exc):
        if frame.f_code.co_filename == __file__ and frame.f_code.co_name.startswith("test_"):
            continue  # the tests themselves hold the keys on purpose
        for name, value in frame.f_locals.items():
            texts: list[str] = []
            _recorded_texts(value, texts, set())
            haystack = "\n".join(texts)
            leaks += [
                f"{frame.f_code.co_name}:{name} holds the {what}"
                for what, secret in secrets.items()
                if secret in haystack
            ]
    return leaks


def _raise_holding(secret: str) -> None:
    headers = {"headers": [("authorization", secret.encode())]}  # noqa: F841 (a local)
    raise ValueError("boom")


def test_the_frame_walk_finds_a_secret_held_deep_in_a_local() -> None:
    with pytest.raises(ValueError) as info:
        _raise_holding("sk_test_needle")
    assert _leaks_in_frames(info.value, {"key": "sk_test_needle"}) == [
        "_raise_holding:secret holds the key", "_raise_holding:headers holds the key",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_no_secret_in_the_frame_locals_of_a_failure() -> None:
    """Refused connection, 500, 401 on the key pair, a connection dropped mid-answer: real
    loopback servers on the default transport, every traceback frame's locals searched."""
    public, private = "pk_test_FrameLocals_pub", "sk_test_FrameLocals_priv"
    basic = base64.b64encode(f"{public}:{private}".encode()).decode()
    secrets = {"public key": public, "private key": private, "basic credentials": basic}
    failures: list[BaseException] = []

    async def fail(client: AsyncClient, call) -> None:
        with pytest.raises(EcartPayError) as info:
            await call(client)
        failures.append(info.value)

    refused = f"http://127.0.0.1:{_free_port()}"
    async with AsyncClient(public_key=public, private_key=private, base_url=refused) as client:
        await fail(client.with_options(max_retries=0), lambda c: c.payouts.retrieve("p1"))

    faults = "payouts.retrieve:500=1,payouts.list:reset=1,payouts.confirm:drop_after_commit=1"
    async with Sandbox(public_key=public, private_key=private, faults=faults) as sandbox:
        async with sandbox.client(max_retries=0) as client:
            await fail(client, lambda c: c.payouts.retrieve("p1"))
            await fail(client, lambda c: c.payouts.list(status="paid").__anext__())
            await fail(client, lambda c: c.payouts.confirm("p1"))
            token = client._http.tokens._token
            assert token is not None
            secrets["token"] = token.get()
        async with AsyncClient(
            public_key=public, private_key="sk_wrong", base_url=sandbox.base_url
        ) as wrong:
            await fail(wrong, lambda c: c.payouts.retrieve("p1"))

    assert [type(e).__name__ for e in failures] == [
        "APIConnectionError", "InternalServerError", "APIConnectionError",
        "APIConnectionError", "AuthenticationError",
    ]
    frames = [frame for failure in failures for frame in _traceback_frames(failure)]
    assert any("_http.py" in frame.f_code.co_filename for frame in frames)  # the pipeline's
    leaks = [leak for failure in failures for leak in _leaks_in_frames(failure, secrets)]
    assert leaks == []
