"""Each fault kind as a client sees it: on a real loopback socket, and in-process."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import httpx
import pytest

from ecartpay_async import _json
from ecartpay_async.sandbox import Sandbox

from .conftest import TLS, token_for

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end]

BODY = _json.dumps(
    {
        "email": "ana@example.com",
        "reference_id": "r-1",
        "amount": Decimal("5.00"),
        "currency": "MXN",
    }
)


async def create(http: httpx.AsyncClient, auth: dict[str, str], **kw: object) -> httpx.Response:
    return await http.post("/api/payouts", content=BODY, headers=auth, **kw)  # type: ignore[arg-type]


def only_create(kind: str, **more: float) -> dict[str, object]:
    return {"payouts.create": {kind: 1, **more}}


@pytest.mark.parametrize(
    ("kind", "error", "committed"),
    [
        ("reset", httpx.ReadError, False),
        ("drop_after_commit", httpx.RemoteProtocolError, True),
    ],
)
async def test_connection_faults_on_the_socket(
    sb: Sandbox,
    http: httpx.AsyncClient,
    auth: dict[str, str],
    kind: str,
    error: type[Exception],
    committed: bool,
) -> None:
    sb.faults.configure(only_create(kind))
    with pytest.raises(error):
        await create(http, auth)
    assert len(sb.state.payouts()) == (1 if committed else 0)
    # The client's pool recovers: the next request (unfaulted) goes through.
    assert (await http.get("/api/payouts", headers=auth)).status_code == 200
    assert sb.faults.counts[kind] == 1


async def test_slow_after_commit_outlasts_the_client(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sb.faults.configure(only_create("slow_after_commit", slow_ms=30_000))
    with pytest.raises(httpx.ReadTimeout):
        await create(http, auth, timeout=0.2)
    assert [p.reference_id for p in sb.state.payouts()] == ["r-1"]


async def test_held_answers_end_when_the_sandbox_stops() -> None:
    sandbox = Sandbox(faults=only_create("slow_after_commit", slow_ms=60_000))
    await anyio.to_thread.run_sync(sandbox.start)
    try:
        async with httpx.AsyncClient(base_url=sandbox.base_url, verify=TLS) as http:
            auth = {"Authorization": await token_for(http, sandbox)}
            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    with pytest.raises(httpx.TransportError):
                        await create(http, auth)

                tg.start_soon(call)
                with anyio.fail_after(5):
                    # The state lives in the server's thread: nothing to await but time.
                    while not sandbox.state.payouts():  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                await anyio.to_thread.run_sync(sandbox.stop)
    finally:
        await anyio.to_thread.run_sync(sandbox.stop)


async def test_truncated_answer_is_a_2xx_that_is_not_json(
    sb: Sandbox, http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sb.faults.configure(only_create("truncated"))
    response = await create(http, auth)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.content.startswith(b'{"id":')
    assert len(sb.state.payouts()) == 1


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "retry_after", "committed"),
    [
        ("500", 500, "application/json", None, False),
        ("502", 502, "text/html", None, False),
        ("503", 503, "application/json", "0", False),
        ("429", 429, "application/json", "0", False),
        ("500_after_commit", 500, "application/json", None, True),
    ],
)
async def test_error_answers(
    sb: Sandbox,
    http: httpx.AsyncClient,
    auth: dict[str, str],
    kind: str,
    status: int,
    content_type: str,
    retry_after: str | None,
    committed: bool,
) -> None:
    sb.faults.configure(only_create(kind, retry_after=0))
    response = await create(http, auth)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers.get("retry-after") == retry_after
    if content_type == "application/json":
        assert response.json() == {"message": response.reason_phrase, "statusCode": status}
    else:
        assert b"<html>" in response.content
    assert len(sb.state.payouts()) == (1 if committed else 0)


async def test_faults_apply_to_the_token_endpoint_too(sb: Sandbox, http: httpx.AsyncClient) -> None:
    sb.faults.configure("token:503=1")
    response = await http.post("/api/authorizations/token", auth=(sb.public_key, sb.private_key))
    assert response.status_code == 503
    assert sb.state.tokens_issued == 0


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("reset", httpx.ReadError),
        ("drop_after_commit", httpx.RemoteProtocolError),
        ("slow_after_commit", httpx.ReadTimeout),
    ],
)
async def test_in_process_connection_faults_are_emulated(kind: str, error: type[Exception]) -> None:
    async with Sandbox(in_process=True, faults=only_create(kind)) as sb, sb.http_client() as http:
        auth = {"Authorization": await token_for(http, sb)}
        with pytest.raises(error):
            await create(http, auth)
        assert len(sb.state.payouts()) == (0 if kind == "reset" else 1)
