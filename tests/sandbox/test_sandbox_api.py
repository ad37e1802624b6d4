"""The emulated API over a real loopback socket, driven with plain httpx."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecartpay_async import _json
from ecartpay_async.sandbox import Sandbox

from .conftest import TLS, token_for

pytestmark = [pytest.mark.anyio, pytest.mark.end_to_end]

# The 200-answer examples of the OpenAPI file's payout and order paths, copied verbatim.
EXAMPLES = Path(__file__).with_name("openapi_examples.json")


def payout_body(**changes: Any) -> bytes:
    body: dict[str, Any] = {
        "email": "ana@example.com",
        "reference_id": "ref-1",
        "amount": Decimal("10.50"),
        "currency": "MXN",
    }
    body.update(changes)
    return _json.dumps({k: v for k, v in body.items() if v is not None})


async def post_payout(
    http: httpx.AsyncClient, auth: dict[str, str], **changes: Any
) -> httpx.Response:
    return await http.post("/api/payouts", content=payout_body(**changes), headers=auth)


# -- authorization --------------------------------------------------------------------


async def test_token_claims_and_lifetime(http: httpx.AsyncClient, sb: Sandbox) -> None:
    token = await token_for(http, sb)
    claims = _b64json(token.split(".")[1])
    assert set(claims) == {"id", "account_id", "iat", "exp"}
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["account_id"] == sb.state.merchant.id
    assert sb.state.tokens_issued == 1


def _b64json(part: str) -> Any:
    import base64

    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize(
    "auth_value",
    [None, ("wrong", "keys"), "Basic !!!", "Bearer x"],
)
async def test_bad_basic_auth_is_401(http: httpx.AsyncClient, sb: Sandbox, auth_value: Any) -> None:
    if isinstance(auth_value, tuple) or auth_value is None:
        response = await http.post("/api/authorizations/token", auth=auth_value)
    else:
        response = await http.post(
            "/api/authorizations/token", headers={"Authorization": auth_value}
        )
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


async def test_wrong_private_key_is_401(http: httpx.AsyncClient, sb: Sandbox) -> None:
    response = await http.post("/api/authorizations/token", auth=(sb.public_key, "nope"))
    assert response.status_code == 401


@pytest.mark.clock
async def test_token_rules(http: httpx.AsyncClient, sb: Sandbox) -> None:
    token = await token_for(http, sb)
    ok = await http.get("/api/payouts", headers={"Authorization": token})
    assert ok.status_code == 200
    bearer = await http.get("/api/payouts", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200
    for headers in ({}, {"Authorization": "garbage"}, {"Authorization": token[:-3] + "AAA"}):
        refused = await http.get("/api/payouts", headers=headers)
        assert refused.status_code == 401
        assert set(refused.json()) == {"message", "statusCode"}
    sb.state.advance_clock(3601)
    expired = await http.get("/api/payouts", headers={"Authorization": token})
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]


async def test_token_from_another_sandbox_is_refused(http: httpx.AsyncClient, sb: Sandbox) -> None:
    with Sandbox(public_key=sb.public_key, private_key=sb.private_key) as other:
        async with httpx.AsyncClient(base_url=other.base_url, verify=TLS) as other_http:
            foreign = await token_for(other_http, other)
    response = await http.get("/api/payouts", headers={"Authorization": foreign})
    assert response.status_code == 401


# -- payouts ----------------------------------------------------------------------------


async def test_create_paid_payout_moves_money(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    before = sb.state.balance(sb.state.merchant.email, "MXN")
    response = await post_payout(http, auth)
    assert response.status_code == 200
    assert b'"amount":10.50' in response.content  # an exact JSON number
    payout = _json.loads(response.content)
    assert payout["status"] == "paid"
    assert payout["amount"] == Decimal("10.50")
    assert len(payout["id"]) == 24
    assert int(payout["id"], 16) >= 0
    assert payout["created_at"].endswith("Z")
    assert len(payout["created_at"]) == 24
    assert sb.state.balance(sb.state.merchant.email, "MXN") == before - Decimal("10.50")
    assert sb.state.balance("ana@example.com", "MXN") == Decimal("10.50")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"reference_id": None}, "reference_id"),
        ({"reference_id": 12}, "reference_id"),
        ({"amount": None}, "amount"),
        ({"amount": "10.00"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": Decimal("1.005")}, "amount"),
        ({"amount": Decimal("10.5"), "currency": "CLP"}, "amount"),
        ({"currency": None}, "currency"),
        ({"currency": "XXX"}, "currency"),
        ({"require_confirmation": "yes"}, "require_confirmation"),
        ({"items": [{"name": "x", "quantity": 1}]}, "items[0].price"),
        ({"email": "merchant@sandbox.ecartpay.test"}, "own account"),
    ],
)
async def test_create_validates_strictly(
    http: httpx.AsyncClient, auth: dict[str, str], sb: Sandbox, changes: dict[str, Any], field: str
) -> None:
    response = await post_payout(http, auth, **changes)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    assert sb.state.payouts() == []


async def test_malformed_bodies(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for content in (b"", b"{not json", b"[1, 2]"):
        response = await http.post("/api/payouts", content=content, headers=auth)
        assert response.status_code == 400
        assert "body" in response.json()["message"]


async def test_auto_register_off_refuses_unknown_recipients() -> None:
    with Sandbox(auto_register=False) as sb:
        async with httpx.AsyncClient(base_url=sb.base_url, verify=TLS) as http:
            auth = {"Authorization": await token_for(http, sb)}
            refused = await post_payout(http, auth)
            assert refused.status_code == 400
            assert "email" in refused.json()["message"]
            await http.post("/_sandbox/accounts", json={"email": "ana@example.com"})
            assert (await post_payout(http, auth)).status_code == 200


@pytest.mark.parametrize(
    ("behavior", "status"),
    [("reject_400", 400), ("reject_409", 409), ("return_original", 200)],
)
async def test_reference_id_reuse(behavior: str, status: int) -> None:
    with Sandbox(reuse_behavior=behavior) as sb:  # type: ignore[arg-type]
        async with httpx.AsyncClient(base_url=sb.base_url, verify=TLS) as http:
            auth = {"Authorization": await token_for(http, sb)}
            first = await post_payout(http, auth)
            again = await post_payout(http, auth, amount=99)
            assert again.status_code == status
            if status == 200:
                assert again.json() == first.json()
            else:
                assert "already been used" in again.json()["message"]
            assert len(sb.state.payouts()) == 1
            assert sb.state.balance("ana@example.com", "MXN") == Decimal("10.50")


async def test_reference_ids_are_per_sending_account(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    created = await http.post(
        "/_sandbox/accounts", json={"email": "other@example.com", "balances": {"MXN": 100}}
    )
    assert created.status_code == 201
    other = created.json()
    other_token = (
        await http.post(
            "/api/authorizations/token", auth=(other["public_key"], other["private_key"])
        )
    ).json()["token"]
    assert (await post_payout(http, auth)).status_code == 200
    assert (await post_payout(http, {"Authorization": other_token})).status_code == 200
    # Each sees only its own payouts.
    listed = (await http.get("/api/payouts", headers={"Authorization": other_token})).json()
    assert listed["count"] == 1


async def test_insufficient_balance() -> None:
    with Sandbox(balances={"MXN": "10.00"}) as sb:
        async with httpx.AsyncClient(base_url=sb.base_url, verify=TLS) as http:
            auth = {"Authorization": await token_for(http, sb)}
            response = await post_payout(http, auth, amount=Decimal("10.01"))
            assert response.status_code == 400
            assert response.json()["message"].startswith("insufficient balance")
            usd = await post_payout(http, auth, currency="USD", amount=1)
            assert usd.status_code == 400  # balances are per currency
            assert (await post_payout(http, auth, amount=10)).status_code == 200
            assert sb.state.balance(sb.state.merchant.id, "MXN") == Decimal("0.00")


async def test_pending_update_confirm(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    merchant = sb.state.merchant.email
    start = sb.state.balance(merchant, "MXN")
    created = (await post_payout(http, auth, require_confirmation=True)).json()
    assert created["status"] == "pending"
    assert sb.state.balance(merchant, "MXN") == start - Decimal("10.50")  # reserved
    assert sb.state.balance("ana@example.com", "MXN") == 0
    pid = created["id"]
    update = {
        "amount": 12,
        "order_id": "625cb5aa8541531b52506de8",
        "items": [{"name": "Collar", "quantity": 1, "price": 5, "discount": Decimal("0.5")}],
        "charges": [{"name": "Tarifa", "amount": Decimal("0.5")}],
    }
    updated = await http.put(f"/api/payouts/{pid}", content=_json.dumps(update), headers=auth)
    assert updated.status_code == 200, updated.text
    assert _json.loads(updated.content)["amount"] == 12
    assert updated.json()["items"][0]["name"] == "Collar"
    assert sb.state.balance(merchant, "MXN") == start - 12
    empty = await http.put(f"/api/payouts/{pid}", json={}, headers=auth)
    assert empty.status_code == 400
    confirmed = await http.put(f"/api/payouts/{pid}/confirm", headers=auth)
    assert confirmed.json()["status"] == "paid"
    assert sb.state.balance("ana@example.com", "MXN") == 12
    for path in (f"/api/payouts/{pid}/confirm", f"/api/payouts/{pid}"):
        refused = await http.put(path, json={"amount": 1}, headers=auth)
        assert refused.status_code == 400
        assert "pending" in refused.json()["message"]


@pytest.mark.clock
async def test_confirm_later_credits_when_due(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    created = (await post_payout(http, auth, require_confirmation=True)).json()
    when = "2100-01-01T00:00:00.000Z"
    scheduled = await http.put(
        f"/api/payouts/{created['id']}/confirm", json={"available_at": when}, headers=auth
    )
    assert scheduled.json()["status"] == "pending"
    assert scheduled.json()["available_at"] == when
    assert sb.state.balance("ana@example.com", "MXN") == 0
    bad = await http.put(
        f"/api/payouts/{created['id']}/confirm", json={"available_at": "someday"}, headers=auth
    )
    assert bad.status_code == 400
    assert "available_at" in bad.json()["message"]
    sb.state.advance_clock(100 * 366 * 86400)
    assert sb.state.balance("ana@example.com", "MXN") == Decimal("10.50")
    # The clock moved past the token's expiry too; a fresh token sees the change.
    fresh = {"Authorization": await token_for(http, sb)}
    later = await http.get(f"/api/payouts/{created['id']}", headers=fresh)
    assert later.json()["status"] == "paid"


async def test_customer_shape(http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]) -> None:
    body = {
        "amount": 10,
        "currency": "MXN",
        "customer_id": "657b928db4c08f6f66847b09",
        "payment_method_id": "65ae8d76219f93a7c14ceb82",
    }
    payout = (await http.post("/api/payouts", json=body, headers=auth)).json()
    assert payout["status"] == "paid"
    assert payout["reference_id"] == payout["reference"]
    assert [t["type"] for t in payout["transactions"]] == ["charge", "payment"]
    missing = await http.post(
        "/api/payouts", json={**body, "payment_method_id": None}, headers=auth
    )
    assert missing.status_code == 400
    assert "payment_method_id" in missing.json()["message"]


async def test_list_filters_and_pages(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    for n in range(7):
        await post_payout(
            http,
            auth,
            reference_id=f"payroll-{n}",
            email=f"p{n}@example.com",
            require_confirmation=n % 2 == 0,
        )

    async def get(**params: Any) -> Any:
        response = await http.get("/api/payouts", params=params, headers=auth)
        assert response.status_code == 200, response.text
        return response.json()

    everything = await get()
    assert (everything["count"], everything["pages"]) == (7, 1)
    assert everything["docs"][0]["reference_id"] == "payroll-6"  # newest first
    assert (await get(status="pending"))["count"] == 4
    assert [d["reference_id"] for d in (await get(reference_id="payroll-3"))["docs"]] == [
        "payroll-3"
    ]
    assert (await get(reference_id="payroll"))["count"] == 0  # exact, not a search
    assert (await get(q="P5@EXAMPLE"))["count"] == 1
    assert (await get(q="payroll"))["count"] == 7
    page = await get(limit=3, page=3)
    assert (page["count"], page["pages"], len(page["docs"])) == (7, 3, 1)
    assert (await get(limit=3, page=9))["docs"] == []
    for bad in ({"limit": 0}, {"limit": 101}, {"page": "x"}):
        assert (await http.get("/api/payouts", params=bad, headers=auth)).status_code == 400
    sb.state.list_shape = "array"
    assert len(await get(status="paid")) == 3


async def test_retrieve_unknown_and_foreign(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await http.get("/api/payouts/000000000000000000000000", headers=auth)
    assert response.status_code == 404
    assert response.json() == {"message": "Payout not found", "statusCode": 404}


@pytest.mark.clock
async def test_answers_carry_every_openapi_field(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    examples = json.loads(EXAMPLES.read_text())["examples"]
    paid = (await post_payout(http, auth)).json()
    pending = (await post_payout(http, auth, reference_id="r2", require_confirmation=True)).json()
    customer = (
        await http.post(
            "/api/payouts",
            headers=auth,
            json={
                "amount": 10,
                "currency": "MXN",
                "customer_id": "657b928db4c08f6f66847b09",
                "payment_method_id": "65ae8d76219f93a7c14ceb82",
            },
        )
    ).json()
    single = (await http.get(f"/api/payouts/{paid['id']}", headers=auth)).json()
    confirmed = (
        await http.put(
            f"/api/payouts/{pending['id']}/confirm",
            headers=auth,
            json={"available_at": "2999-01-01T00:00:00Z"},
        )
    ).json()
    order_body = {
        "customer_id": "657b928db4c08f6f66847b09",
        "currency": "MXN",
        "items": [{"name": "Brazalete", "quantity": 1, "price": Decimal("243.33")}],
    }
    order = (await http.post("/api/orders", headers=auth, content=_json.dumps(order_body))).json()
    answers = {
        "Payout without confirmation": paid,
        "Payout required confirmation": pending,
        "Create a payout for customer": customer,
        "Get single payout": single,
        "Confirm payout": confirmed,
        "Create Order": order,
    }
    for name, example in examples.items():
        answer = answers[name]
        assert set(example) <= set(answer), (name, set(example) - set(answer))
        for key, value in example.items():
            assert type(answer[key]) is type(value) or {type(answer[key]), type(value)} <= {
                int,
                float,
                Decimal,
            }, (name, key)
        if "transactions" in example:
            assert set(example["transactions"][0]) <= set(answer["transactions"][0])
        if "items" in example:
            assert set(example["items"][0]) <= set(answer["items"][0])
            assert set(example["totals"]) <= set(answer["totals"])


# -- control --------------------------------------------------------------------------


async def test_control_state_reset_accounts(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    await post_payout(http, auth)
    state = _json.loads((await http.get("/_sandbox/state")).content)
    assert [p["reference_id"] for p in state["payouts"]] == ["ref-1"]
    emails = {a["email"]: a for a in state["accounts"]}
    assert emails["ana@example.com"]["balances"] == {"MXN": Decimal("10.50")}
    assert sb.private_key not in json.dumps(state, default=str)
    assert sb.public_key not in json.dumps(state, default=str)
    assert all("public_key" not in account for account in state["accounts"])
    funded = await http.post(
        "/_sandbox/accounts", json={"email": "ana@example.com", "credit": {"MXN": "5"}}
    )
    assert funded.status_code == 200
    assert "private_key" not in funded.json()
    assert sb.state.balance("ana@example.com", "MXN") == Decimal("15.50")
    bad = await http.post(
        "/_sandbox/accounts", json={"email": "x@example.com", "balances": {"MXN": "1.001"}}
    )
    assert bad.status_code == 400
    assert (await http.post("/_sandbox/reset")).status_code == 200
    assert sb.state.payouts() == []
    # The merchant's token survives a reset.
    assert (await post_payout(http, auth)).status_code == 200


async def test_control_faults_and_options(
    http: httpx.AsyncClient, sb: Sandbox, auth: dict[str, str]
) -> None:
    put = await http.put(
        "/_sandbox/faults", json={"spec": "payouts.list:503=1,retry_after=0", "seed": 3}
    )
    assert put.status_code == 200
    assert put.json()["text"] == "retry_after=0,payouts.list:503=1"
    listed = await http.get("/api/payouts", headers=auth)
    assert listed.status_code == 503
    assert listed.headers["retry-after"] == "0"
    assert (await http.get("/_sandbox/faults")).json()["counts"] == {"503": 1}
    assert (await http.get("/_sandbox/state")).status_code == 200  # never faulted
    assert (await http.put("/_sandbox/faults", json={"spec": "nope=1"})).status_code == 400
    await http.put("/_sandbox/faults", json={"spec": None})
    options = await http.put(
        "/_sandbox/options", json={"reuse_behavior": "reject_409", "list_shape": "array"}
    )
    assert options.json()["reuse_behavior"] == "reject_409"
    assert isinstance((await http.get("/api/payouts", headers=auth)).json(), list)
    assert (await http.put("/_sandbox/options", json={"list_shape": "x"})).status_code == 400
    clock = await http.post("/_sandbox/clock", json={"advance": 3601})
    assert clock.status_code == 200
    assert (await http.get("/api/payouts", headers=auth)).status_code == 401


async def test_unknown_routes_answer_json(http: httpx.AsyncClient) -> None:
    response = await http.delete("/api/payouts")
    assert response.status_code == 405
    assert response.json()["statusCode"] == 405
