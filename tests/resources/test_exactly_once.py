"""Exactly once, keyed on reference_id: lookups after ambiguous failures, reuse rejections.

Every test counts the POSTs: a second POST of a payout that may exist is a double payment.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from client_fakes import (
    PAYOUTS,
    REQUEST,
    TOKEN,
    TOKEN2,
    count_lookups,
    count_posts,
    jresp,
    payout_json,
    token_response,
)

from ecartpay_async import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    BadRequestError,
    IdempotencyConflictError,
    InternalServerError,
    Payout,
    PayoutRequest,
)

pytestmark = pytest.mark.anyio

REF = REQUEST["reference_id"]
AMBIGUOUS = [
    pytest.param(httpx.ReadTimeout("read timed out"), id="ReadTimeout"),
    pytest.param(httpx.WriteTimeout("write timed out"), id="WriteTimeout"),
    pytest.param(httpx.RemoteProtocolError("peer closed"), id="RemoteProtocolError"),
    pytest.param(httpx.ReadError("reset"), id="ReadError"),
    pytest.param(httpx.Response(500), id="500"),
    pytest.param(httpx.Response(502, text="<html>bad gateway</html>"), id="502-html"),
    pytest.param(httpx.Response(503), id="503"),
    pytest.param(httpx.Response(408), id="408"),
    pytest.param(httpx.Response(200, content=b'{"id": "61a53cd3f6ea776ee3b37498", "sta'),
                 id="truncated-200"),
    pytest.param(httpx.Response(200, content=b""), id="empty-200"),
]


def _mock_lookup(router, *answers):
    """GET /api/payouts?reference_id=... answers, in order."""
    return router.get(PAYOUTS).mock(side_effect=[jresp(200, a) for a in answers])


def _found(**changes) -> dict:
    return {"count": 1, "docs": [payout_json(**changes)], "pages": 1}


NOT_FOUND = {"count": 0, "docs": [], "pages": 0}


@pytest.mark.parametrize("failure", AMBIGUOUS)
async def test_ambiguous_failure_then_found_equal_is_success(failure, client, router):
    router.post(PAYOUTS).mock(side_effect=[failure, jresp(200, payout_json(id="never"))])
    lookup = _mock_lookup(router, _found())
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered is True
    assert result.attempts == 1
    assert result.payout.id == "61a53cd3f6ea776ee3b37498"
    assert count_posts(router) == 1
    assert lookup.call_count == 1
    assert lookup.calls[0].request.url.params["reference_id"] == REF


@pytest.mark.parametrize("failure", AMBIGUOUS)
async def test_ambiguous_failure_then_not_found_sends_again_unchanged(failure, client, router):
    post = router.post(PAYOUTS).mock(side_effect=[failure, jresp(200, payout_json())])
    lookup = _mock_lookup(router, NOT_FOUND)
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered is False
    assert result.attempts == 2
    assert count_posts(router) == 2
    assert lookup.call_count == 1
    first, second = (c.request.content for c in post.calls)
    assert first == second  # same body, same reference_id
    assert f'"reference_id":"{REF}"'.encode() in first


async def test_lookup_answered_404_counts_as_not_found(client, router):
    router.post(PAYOUTS).mock(
        side_effect=[httpx.ReadTimeout("lost"), jresp(200, payout_json())]
    )
    router.get(PAYOUTS).mock(return_value=jresp(404, {"message": "Not found", "statusCode": 404}))
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.attempts == 2
    assert count_posts(router) == 2


@pytest.mark.parametrize(
    ("changes", "field", "requested", "found"),
    [
        ({"amount": Decimal("1250.00")}, "amount", Decimal("1250.50"), Decimal("1250.00")),
        ({"email": "eve@example.com"}, "email", "ana@example.com", "eve@example.com"),
        ({"currency": "USD"}, "currency", "MXN", "USD"),
    ],
)
async def test_found_but_different_is_a_conflict(changes, field, requested, found, client,
                                                 router):
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    _mock_lookup(router, _found(**changes))
    with pytest.raises(IdempotencyConflictError) as info:
        await client.payouts.create(**REQUEST)
    error = info.value
    assert error.reference_id == REF
    assert error.differences == [(field, requested, found)]
    assert isinstance(error.existing, Payout)
    assert field in str(error)
    assert count_posts(router) == 1


async def test_found_with_same_email_in_other_case_is_success(client, router):
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    _mock_lookup(router, [payout_json(email="Ana@Example.com", status="pending")])
    payout = await client.payouts.create(**REQUEST)
    assert payout.is_pending
    assert count_posts(router) == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no route"), httpx.PoolTimeout("busy"),
     httpx.Response(429, headers={"Retry-After": "1"})],
    ids=["ConnectError", "ConnectTimeout", "PoolTimeout", "429"],
)
async def test_never_sent_failures_retry_without_lookup(failure, client, router):
    router.post(PAYOUTS).mock(side_effect=[failure, jresp(200, payout_json())])
    lookup = router.get(PAYOUTS).mock(return_value=jresp(200, _found()))
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered is False
    assert count_posts(router) == 2
    assert lookup.call_count == 0


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"message": "reference_id already used", "statusCode": 400}),
        (400, {"message": ["reference_id must be unique"], "statusCode": 400}),
        (409, {"message": "Conflict", "statusCode": 409}),
        (409, None),
        (422, {"message": "duplicate key error", "statusCode": 422}),
        (422, {"error": "Payout already exists"}),
    ],
)
async def test_reuse_rejection_resolves_by_lookup(status, body, client, router):
    answer = httpx.Response(status) if body is None else jresp(status, body)
    router.post(PAYOUTS).mock(return_value=answer)
    lookup = _mock_lookup(router, _found())
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered is True
    assert result.existing is True  # refused before this call could have made it
    assert result.payout.reference_id == REF
    assert count_posts(router) == 1
    assert lookup.call_count == 1


async def test_a_reuse_rejection_after_an_ambiguous_attempt_may_be_this_calls_own(
    client, router
):
    # The first attempt may have created it: the refusal of the second does not say
    # an earlier run paid it.
    reused = jresp(400, {"message": "reference_id already used", "statusCode": 400})
    router.post(PAYOUTS).mock(side_effect=[httpx.ReadTimeout("read timed out"), reused])
    _mock_lookup(router, NOT_FOUND, _found())
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered is True
    assert result.existing is False
    assert count_posts(router) == 2


async def test_reuse_rejection_found_different_is_a_conflict(client, router):
    router.post(PAYOUTS).mock(return_value=jresp(409, {"message": "reference_id already used"}))
    _mock_lookup(router, _found(amount=Decimal("99.00")))
    with pytest.raises(IdempotencyConflictError):
        await client.payouts.create(**REQUEST)
    assert count_posts(router) == 1


async def test_reuse_rejection_not_found_raises_the_rejection(client, router, clock):
    router.post(PAYOUTS).mock(
        return_value=jresp(400, {"message": "reference_id already used", "statusCode": 400})
    )
    lookup = _mock_lookup(router, NOT_FOUND)
    with pytest.raises(BadRequestError):
        await client.payouts.create(**REQUEST)
    assert count_posts(router) == 1
    assert lookup.call_count == 1
    assert clock.sleeps == []


async def test_other_400_is_not_looked_up(client, router):
    router.post(PAYOUTS).mock(
        return_value=jresp(400, {"message": "insufficient balance", "statusCode": 400})
    )
    lookup = router.get(PAYOUTS).mock(return_value=jresp(200, _found()))
    with pytest.raises(BadRequestError, match="insufficient balance"):
        await client.payouts.create(**REQUEST)
    assert count_posts(router) == 1
    assert lookup.call_count == 0


async def test_reuse_answered_with_the_original_payout_but_different_amount(client, router):
    router.post(PAYOUTS).mock(return_value=jresp(200, payout_json(amount=Decimal("10.00"))))
    with pytest.raises(IdempotencyConflictError) as info:
        await client.payouts.create(**REQUEST)
    assert info.value.differences == [("amount", Decimal("1250.50"), Decimal("10.00"))]
    assert count_posts(router) == 1


async def test_customer_payout_without_reference_is_not_retried_after_ambiguity(client, router):
    for failure in (httpx.ReadTimeout("lost"), httpx.Response(500), httpx.Response(
            200, content=b'{"id":')):
        router.calls.clear()
        router.post(PAYOUTS).mock(side_effect=[failure, jresp(200, payout_json())])
        lookup = router.get(PAYOUTS).mock(return_value=jresp(200, NOT_FOUND))
        with pytest.raises((APITimeoutError, InternalServerError, APIResponseError)):
            await client.payouts.create(
                customer_id="c1", payment_method_id="pm1", amount=10, currency="MXN"
            )
        assert count_posts(router) == 1
        assert lookup.call_count == 0


async def test_customer_payout_without_reference_is_retried_when_never_sent(client, router):
    router.post(PAYOUTS).mock(side_effect=[httpx.ConnectError("refused"),
                                           jresp(200, payout_json(amount=Decimal(10)))])
    await client.payouts.create(customer_id="c1", payment_method_id="pm1", amount=10,
                                currency="MXN")
    assert count_posts(router) == 2


async def test_customer_payout_with_reference_is_looked_up(client, router):
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    found = payout_json(customer_id="c1", payment_method_id="pm1", amount=Decimal(10))
    _mock_lookup(router, [found])
    result = await client.payouts.send(PayoutRequest(
        customer_id="c1", payment_method_id="pm1", reference_id=REF, amount=10, currency="MXN"))
    assert result.recovered
    assert count_posts(router) == 1


async def test_lookup_matches_reference_id_exactly(client, router):
    post = router.post(PAYOUTS).mock(side_effect=[httpx.ReadTimeout("lost"),
                                                  jresp(200, payout_json())])
    search_like = [
        payout_json(id="x1", reference_id=REF + "-b"),
        payout_json(id="x2", reference_id=REF.upper()),
        payout_json(id="x3", reference_id=REF[:-1]),
        payout_json(id="x4", reference_id=None),
    ]
    _mock_lookup(router, {"count": 4, "docs": search_like, "pages": 1})
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered is False
    assert result.payout.id == "61a53cd3f6ea776ee3b37498"
    assert post.call_count == 2


async def test_lookup_picks_the_exact_match_among_others(client, router):
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    docs = [payout_json(id="x1", reference_id=REF + "-b", amount=Decimal(1)),
            payout_json(id="mine")]
    _mock_lookup(router, docs)
    assert (await client.payouts.create(**REQUEST)).id == "mine"
    assert count_posts(router) == 1


async def test_lookup_reference_is_encoded(client, router):
    ref = "payroll/11 #1&x=y"
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    lookup = _mock_lookup(router, [payout_json(reference_id=ref)])
    await client.payouts.create(**{**REQUEST, "reference_id": ref})
    assert lookup.calls[0].request.url.params["reference_id"] == ref
    assert count_posts(router) == 1


async def test_failed_lookup_is_tried_again_before_any_new_post(client, router):
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    lookup = router.get(PAYOUTS).mock(side_effect=[httpx.Response(502), jresp(200, _found())])
    result = await client.payouts.send(PayoutRequest(**REQUEST))
    assert result.recovered
    assert count_posts(router) == 1
    assert lookup.call_count == 2


async def test_all_attempts_ambiguous(client, router, clock):
    post = router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    router.get(PAYOUTS).mock(return_value=jresp(200, NOT_FOUND))
    with pytest.raises(APITimeoutError):
        await client.payouts.create(**REQUEST)
    assert count_posts(router) == 3
    assert count_lookups(router) == 2  # one before each resend
    assert len({c.request.content for c in post.calls}) == 1
    assert len(clock.sleeps) == 2


async def test_no_retries_means_no_lookup(client, router):
    router.post(PAYOUTS).mock(side_effect=httpx.ReadTimeout("lost"))
    with pytest.raises(APITimeoutError):
        await client.payouts.create(**REQUEST, max_retries=0)
    assert count_posts(router) == 1
    assert count_lookups(router) == 0


async def test_unknown_2xx_shape_for_create(client, router):
    router.post(PAYOUTS).mock(return_value=jresp(200, {"ok": True}))
    with pytest.raises(APIResponseError):
        await client.payouts.create(**REQUEST, max_retries=0)
    assert count_posts(router) == 1


@pytest.mark.clock
async def test_401_on_create_replays_once(client, router):
    router["token"].mock(side_effect=[token_response(TOKEN), token_response(TOKEN2)])
    post = router.post(PAYOUTS).mock(side_effect=[
        jresp(401, {"message": "jwt expired", "statusCode": 401}), jresp(200, payout_json())])
    await client.payouts.create(**REQUEST)
    assert count_posts(router) == 2
    assert [c.request.headers["Authorization"] for c in post.calls] == [TOKEN, TOKEN2]
    assert post.calls[0].request.content == post.calls[1].request.content


async def test_on_attempt_reports_each_post(client, router):
    router.post(PAYOUTS).mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(503),
                                           jresp(200, payout_json())])
    router.get(PAYOUTS).mock(return_value=jresp(200, NOT_FOUND))
    attempts = []
    await client.payouts.send(PayoutRequest(**REQUEST), on_attempt=attempts.append)
    assert [(a.number, a.status_code, type(a.error).__name__) for a in attempts] == [
        (1, None, "APIConnectionError"), (2, 503, "NoneType"), (3, 200, "NoneType")]
    assert count_posts(router) == 3


async def test_connection_error_class_is_kept(client, router):
    router.post(PAYOUTS).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        await client.payouts.create(**REQUEST)
    assert not isinstance(info.value, APITimeoutError)
    assert count_posts(router) == 3
