"""Every payout example Ecart Pay documents parses and round-trips with exact decimals.

The examples are copied into ``data/``; one test checks that the copies still match
Ecart Pay's documents, kept as published in ``data/reference/`` (nothing outside the
repository is read).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from client_fakes import (
    PAYOUTS,
    REFERENCE,
    canonical,
    is_payout_example,
    jresp,
    load_data,
    markdown_examples,
    openapi_examples,
    sent_json,
)

from ecartpay_async import BadRequestError, InternalServerError, Payout, PayoutRequest, _json
from ecartpay_async._convert import parse_datetime, structure, unstructure

OPENAPI = load_data("openapi_payout_examples.json")
MARKDOWN = load_data("payouts_md_examples.json")
PAYOUT_EXAMPLES = {k: v for k, v in OPENAPI.items() if is_payout_example(k, v)} | {
    f"payouts.md Example Response #{i + 1}": v for i, v in enumerate(MARKDOWN)
}


def test_the_copies_hold_every_documented_payout():
    # 5 payout answers in the OpenAPI file (3 create, 1 get, 1 confirm), 3 in payouts.md.
    assert len(PAYOUT_EXAMPLES) == 8
    assert sum(1 for v in PAYOUT_EXAMPLES.values() if v.get("transactions")) == 2


@pytest.mark.parametrize("name", sorted(PAYOUT_EXAMPLES))
def test_example_parses_and_round_trips(name):
    data = PAYOUT_EXAMPLES[name]
    payout = structure(data, Payout)
    assert payout.id == data["id"]
    assert payout.status == data["status"]
    assert payout.amount == Decimal(str(data["amount"]))
    assert isinstance(payout.amount, Decimal)
    assert isinstance(payout.fee, Decimal)
    assert payout.created_at is not None
    assert payout.created_at.tzinfo is not None
    assert len(payout.transactions) == len(data.get("transactions", []))
    assert payout.extra == {}  # every documented field is modelled
    again = unstructure(payout)
    assert again == data
    assert canonical(again) == canonical(data)  # same JSON text, decimals included


@pytest.mark.anyio
async def test_documented_create_request_is_accepted_and_sent_exactly(client, router):
    example = OPENAPI["/api/payouts/post/requestBody/content/application/json Create a payout"]
    answer = OPENAPI[
        "/api/payouts/post/responses/200/content/application/json Create a payout for customer"
    ]
    route = router.post(PAYOUTS).mock(return_value=jresp(200, answer))
    request = PayoutRequest.from_mapping(example)
    result = await client.payouts.send(request)
    assert result.payout.transactions[1].type == "payment"
    assert sent_json(route.calls[0]) == {**example, "require_confirmation": False}


@pytest.mark.anyio
async def test_documented_update_request_is_sent_exactly(client, router):
    example = OPENAPI[
        "/api/payouts/{payout_id}/put/requestBody/content/application/json Update payout items"
    ]
    route = router.put(f"{PAYOUTS}/p1").mock(return_value=jresp(200, PAYOUT_EXAMPLES[
        "/api/payouts/{payout_id}/get/responses/200/content/application/json Get single payout"
    ]))
    await client.payouts.update(
        "p1", amount=example["amount"], order_id=example["order_id"],
        items=example["items"], charges=example["charges"],
    )
    sent = sent_json(route.calls[0])
    assert sent == example  # same numbers (the amount goes out quantized: 10.00)
    assert route.calls[0].request.content.startswith(b'{"amount":10.00,')
    assert b'"discount":0.5' in route.calls[0].request.content


@pytest.mark.anyio
async def test_documented_confirm_request_is_sent_exactly(client, router):
    example = OPENAPI[
        "/api/payouts/{payout_id}/confirm/put/requestBody/content/application/json Confirm payout"
    ]
    answer = OPENAPI[
        "/api/payouts/{payout_id}/confirm/put/responses/200/content/application/json "
        "Confirm payout"
    ]
    route = router.put(f"{PAYOUTS}/p1/confirm").mock(return_value=jresp(200, answer))
    when = parse_datetime(example["available_at"])
    assert isinstance(when, datetime)
    payout = await client.payouts.confirm("p1", available_at=when)
    assert route.calls[0].request.content == _json.dumps(example)
    assert payout.is_pending
    assert payout.available_at == when


@pytest.mark.anyio
async def test_documented_error_example_is_one_refusal(client, router):
    # The file's only error example: HTTP 500 whose body says "statusCode": 400. It is
    # the refusal the body declares (the HTTP status kept beside it): one POST, no
    # retry, no lookup.
    example = OPENAPI["/api/payouts/post/responses/500/content/application/json Payout with items"]
    posted = router.post(PAYOUTS).mock(return_value=jresp(500, example))
    looked_up = router.get(PAYOUTS).mock(return_value=jresp(200, {"docs": []}))
    with pytest.raises(BadRequestError) as info:
        await client.payouts.create(
            reference_id="r-1", email="ana@example.com", amount=10, currency="MXN"
        )
    assert info.value.status_code == 400
    assert info.value.http_status == 500
    assert info.value.message == example["message"]
    assert info.value.body == example
    assert posted.call_count == 1
    assert looked_up.call_count == 0


@pytest.mark.anyio
async def test_a_5xx_without_a_declared_refusal_is_still_a_server_failure(client, router):
    router.post(PAYOUTS).mock(return_value=jresp(500, {"message": "boom", "statusCode": 500}))
    router.get(PAYOUTS).mock(return_value=jresp(200, {"docs": []}))
    with pytest.raises(InternalServerError) as info:
        await client.with_options(max_retries=0).payouts.create(
            reference_id="r-1", email="ana@example.com", amount=10, currency="MXN"
        )
    assert info.value.status_code == info.value.http_status == 500


def test_copies_match_the_reference_documents():
    spec = _json.loads((REFERENCE / "ecartpay-openapi-payouts.json").read_bytes())
    assert canonical(openapi_examples(spec)) == canonical(OPENAPI)
    markdown = markdown_examples((REFERENCE / "payouts.md").read_text(encoding="utf-8"))
    assert canonical(markdown) == canonical(MARKDOWN)
    # and every payout in them round-trips (so a new example is covered too)
    shared = [v for k, v in openapi_examples(spec).items() if is_payout_example(k, v)]
    for data in [*shared, *markdown]:
        assert canonical(unstructure(structure(data, Payout))) == canonical(data)
