"""The one pipeline: closed state, raw responses, request ids, confirm refusals."""

from __future__ import annotations

import httpx
import pytest
from client_fakes import PAYOUTS, REQUEST, jresp, payout_json

from ecartpay_async import AsyncClient, ConflictError, Payout
from ecartpay_async.errors import ClientClosedError
from ecartpay_async.transport import AutoTransport, TransportConfig

pytestmark = pytest.mark.anyio


async def test_a_closed_client_refuses_every_call(client, router):
    router.get(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json()))
    derived = client.with_options(max_retries=0)
    await client.aclose()
    with pytest.raises(ClientClosedError, match="closed"):
        await client.payouts.retrieve("p1")
    with pytest.raises(ClientClosedError):
        await derived.payouts.create(**REQUEST)
    assert [c.request.url.path for c in router.calls] == []


async def test_a_closed_transport_builds_no_new_pool() -> None:
    transport = AutoTransport(TransportConfig(trust_env=False))
    async with AsyncClient("pub", "priv", base_url="http://127.0.0.1:9", transport=transport):
        pass
    with pytest.raises(RuntimeError, match="closed"):
        await transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    assert transport.chosen is None


async def test_raw_response_gives_status_headers_and_the_parsed_payout(client, router):
    router.post(PAYOUTS).mock(
        return_value=jresp(201, payout_json(), headers={"x-request-id": "req_123"})
    )
    router.get(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json(status="pending")))
    raw = await client.payouts.with_raw_response.create(**REQUEST)
    assert raw.status_code == 201
    assert raw.headers["content-type"] == "application/json"
    assert raw.request_id == "req_123"
    assert isinstance(raw.parsed, Payout)
    assert raw.parsed.reference_id == REQUEST["reference_id"]
    got = await client.payouts.with_raw_response.retrieve("p1")
    assert (got.status_code, got.parsed.is_pending) == (200, True)
    with pytest.raises(TypeError, match="raw form"):
        await client.payouts.with_raw_response.list()


async def test_errors_carry_the_api_request_id(client, router):
    router.get(f"{PAYOUTS}/p1").mock(
        return_value=jresp(409, {"message": "no"}, headers={"X-Request-Id": "req_9"})
    )
    with pytest.raises(ConflictError) as caught:
        await client.payouts.retrieve("p1", max_retries=0)
    assert caught.value.request_id == "req_9"


async def test_a_confirm_refused_after_a_clean_failure_reads_the_payout(client, router):
    # The first attempt was refused with 429 (never processed, by the rules), the second
    # with 409: the payout is read, and it is confirmed, so that is the answer.
    router.put(f"{PAYOUTS}/p1/confirm").mock(side_effect=[
        jresp(429, {"message": "slow down"}), jresp(409, {"message": "not pending"}),
    ])
    read = router.get(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json(status="paid")))
    payout = await client.payouts.confirm("p1")
    assert payout.status.value == "paid"
    assert read.call_count == 1


async def test_a_confirm_refused_at_the_first_attempt_is_an_error(client, router):
    router.put(f"{PAYOUTS}/p1/confirm").mock(return_value=jresp(409, {"message": "no"}))
    read = router.get(f"{PAYOUTS}/p1").mock(return_value=jresp(200, payout_json()))
    with pytest.raises(ConflictError):
        await client.payouts.confirm("p1")
    assert read.call_count == 0
