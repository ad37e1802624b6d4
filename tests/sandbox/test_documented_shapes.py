"""The sandbox answers in the shapes Ecart Pay's OpenAPI file documents, and the SDK reads them.

* payouts carry no ``email`` unless ``payout_email=True``;
* errors can come as the file shows them (``error_style="openapi"``): HTTP 500 whose
  body declares ``"statusCode": 400``. The SDK takes that as the refusal it is: one
  POST, no lookup, no retry, and a batch does not read it as congestion;
* the conflict check says which fields it could compare.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ecartpay_async import BadRequestError, IdempotencyConflictError, JournalError, PayoutRequest
from ecartpay_async.batch import OutcomeStatus
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

# The OpenAPI file's only error example (POST /api/payouts, "Payout with items").
DOCUMENTED_ERROR = {
    "message": 'payouts validation failed: amount: Cast to DecimalType failed for value "NaN" '
               '(type number) at path "amount"',
    "statusCode": 400,
}


async def test_payouts_answer_without_email_unless_asked() -> None:
    async with Sandbox(in_process=True) as sb, sb.client() as client:
        payout = await client.payouts.create(
            email="ana@example.com", reference_id="r-1", amount=Decimal("10"), currency="MXN"
        )
        assert payout.email is None
        [listed] = [p async for p in client.payouts.list(reference_id="r-1")]
        assert listed.email is None
        assert sb.state.payouts()[0].email == "ana@example.com"  # the sandbox knows it
    async with Sandbox(in_process=True, payout_email=True) as sb, sb.client() as client:
        payout = await client.payouts.create(
            email="ana@example.com", reference_id="r-1", amount=Decimal("10"), currency="MXN"
        )
        assert payout.email == "ana@example.com"


async def test_the_openapi_error_style_answers_500_with_the_status_in_the_body() -> None:
    async with Sandbox(in_process=True, error_style="openapi") as sb, sb.http_client() as http:
        token = (await http.post("/api/authorizations/token",
                                 auth=(sb.public_key, sb.private_key))).json()["token"]
        answer = await http.post("/api/payouts", headers={"Authorization": token},
                                 json={"email": "ana@example.com", "reference_id": "r-1",
                                       "amount": "NaN", "currency": "MXN"})
        refused = await http.post("/api/authorizations/token", auth=("nobody", "wrong"))
    assert answer.status_code == 500
    assert answer.json()["statusCode"] == 400
    assert set(answer.json()) == set(DOCUMENTED_ERROR)
    assert refused.status_code == 401  # the token refusal keeps its status


async def test_the_documented_error_is_one_refusal_with_one_post() -> None:
    async with Sandbox(in_process=True, error_style="openapi", auto_register=False) as sb:
        async with sb.client(max_retries=5) as client:
            with pytest.raises(BadRequestError) as info:
                await client.payouts.create(email="nobody@example.com", reference_id="r-1",
                                            amount=Decimal("10"), currency="MXN")
        counted = dict(sb.faults.requests)
    assert (info.value.status_code, info.value.http_status) == (400, 500)
    assert counted.get("payouts.create") == 1  # no retry
    assert counted.get("payouts.list", 0) == 0  # no lookup


async def test_a_batch_takes_documented_refusals_as_refusals_not_congestion() -> None:
    requests = [
        PayoutRequest(email=f"{'nobody' if n % 3 == 0 else 'seller'}{n}@example.com",
                      reference_id=f"r-{n}", amount=Decimal("10.00"), currency="MXN")
        for n in range(12)
    ]
    async with Sandbox(in_process=True, error_style="openapi", auto_register=False) as sb:
        for request in requests:
            if request.email and request.email.startswith("seller"):
                sb.state.upsert_account({"email": request.email})
        async with sb.client() as client:
            report = await client.payouts.send_batch(requests, concurrency=4)
        counted = dict(sb.faults.requests)
    assert (report.paid, report.failed) == (8, 4)
    assert not report.aborted
    assert report.retries == 0
    assert report.concurrency_decreases == 0
    assert {f.status_code for f in report.failures} == {400}
    assert counted.get("payouts.create") == 12  # one POST per row
    assert counted.get("payouts.list", 0) == 0  # no lookup storm


async def test_the_conflict_check_names_what_it_could_compare() -> None:
    async with Sandbox(in_process=True) as sb, sb.client() as client:
        await client.payouts.create(email="ana@example.com", reference_id="r-1",
                                    amount=Decimal("10"), currency="MXN")
        with pytest.raises(IdempotencyConflictError) as info:
            await client.payouts.create(email="beto@example.com", reference_id="r-1",
                                        amount=Decimal("11"), currency="MXN")
    error = info.value
    assert [field for field, _, _ in error.differences] == ["amount"]
    assert error.compared == ["amount", "currency", "require_confirmation"]
    assert error.not_compared == ["email"]
    assert "not in the answer: email" in str(error)


async def test_sandbox_transactions_use_the_documented_types() -> None:
    async with Sandbox(in_process=True) as sb, sb.client() as client:
        await client.payouts.create(email="ana@example.com", reference_id="r-1",
                                    amount=Decimal("10"), currency="MXN")
        types = {t.type async for t in client.transactions.list()}
    assert types <= {"payment", "charge", "withdrawal"}
    assert types == {"charge"}


async def test_the_default_funding_pays_a_colombian_payroll() -> None:
    # 400 people, 1.47 billion COP: one billion (the old funding) stopped at 268.
    requests = [PayoutRequest(email=f"e{n}@example.com", reference_id=f"cop-{n}",
                              amount=Decimal("3675000.00"), currency="COP") for n in range(400)]
    async with Sandbox(in_process=True) as sb, sb.client() as client:
        report = await client.payouts.send_batch(requests, concurrency=32)
    assert report.paid == 400
    assert report.totals(OutcomeStatus.PAID) == {"COP": Decimal("1470000000.00")}


async def test_without_email_in_answers_the_journal_guards_the_recipient(tmp_path) -> None:
    # The lookup cannot see a reference_id reused for another recipient with the same
    # amount (no email in the answer); the journal's fingerprint of the row can.
    journal = tmp_path / "run.db"
    ana = [PayoutRequest(email="ana@example.com", reference_id="r-1", amount=Decimal("10"),
                         currency="MXN")]
    beto = [PayoutRequest(email="beto@example.com", reference_id="r-1", amount=Decimal("10"),
                          currency="MXN")]
    async with Sandbox(in_process=True) as sb, sb.client() as client:
        await client.payouts.send_batch(ana, journal=journal)
        with pytest.raises(JournalError, match="disagree with the journal"):
            await client.payouts.send_batch(beto, journal=journal)
        assert [p.email for p in sb.state.payouts()] == ["ana@example.com"]
        assert dict(sb.faults.requests).get("payouts.create") == 1


async def test_the_shapes_switch_while_serving() -> None:
    async with Sandbox(in_process=True, auto_register=False) as sb, sb.http_client() as http:
        switched = await http.put("/_sandbox/options",
                                  json={"payout_email": True, "error_style": "openapi"})
        assert switched.status_code == 200, switched.text
        assert (sb.state.payout_email, sb.state.error_style) == (True, "openapi")
        refused = await http.put("/_sandbox/options", json={"error_style": "teapot"})
        assert refused.status_code == 500  # in the style just chosen
        assert refused.json()["statusCode"] == 400
        assert "error_style must be one of http, openapi" in refused.json()["message"]
