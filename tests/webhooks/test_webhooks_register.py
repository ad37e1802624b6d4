"""``client.webhooks.register`` against respx: the body, the answer, checks, no blind retry."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ecartpay_async import Webhook, _json
from ecartpay_async.errors import InternalServerError, ValidationError

pytestmark = pytest.mark.anyio

BASE = "https://api.ecartpay.test"
ANSWER = {"id": "wh_65a8", "account_id": "acc_1", "url": "https://shop.example/hooks",
          "events": ["transfer.*", "orders.confirmation"],
          "created_at": "2026-11-21T10:00:00.000Z", "secret_hint": "whsec_...4f2"}



async def test_register_sends_url_and_events_and_reads_the_answer(mocked):
    router, client = mocked
    route = router.post("/api/webhooks").respond(json=ANSWER)
    webhook = await client.webhooks.register(
        " https://shop.example/hooks ", ["transfer.*", "orders.confirmation"]
    )
    assert _json.loads(route.calls[0].request.content) == {
        "url": "https://shop.example/hooks",
        "events": ["transfer.*", "orders.confirmation"],
    }
    assert route.calls[0].request.headers["authorization"] == "tok"
    assert webhook == Webhook(
        url="https://shop.example/hooks",
        events=("transfer.*", "orders.confirmation"),
        id="wh_65a8",
        account_id="acc_1",
        created_at=datetime(2026, 11, 21, 10, tzinfo=timezone.utc),
        extra={"secret_hint": "whsec_...4f2"},
    )
    assert webhook.secret_hint == "whsec_...4f2"  # unknown fields kept


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("ftp://shop.example/hooks", ["transfer.*"], "url"),
        ("", ["transfer.*"], "url"),
        ("https://", ["transfer.*"], "url"),
        ("https://shop.example/hooks", [], "events"),
        ("https://shop.example/hooks", "transfer.*", "events"),
        ("https://shop.example/hooks", ["transfer.*", " "], "events[1]"),
    ],
)
async def test_bad_input_is_refused_before_sending(url, events, field, mocked):
    router, client = mocked
    route = router.post("/api/webhooks").respond(json=ANSWER)
    with pytest.raises(ValidationError) as info:
        await client.webhooks.register(url, events)
    assert info.value.field == field
    assert not route.called


async def test_a_5xx_is_not_sent_again(mocked):
    # Registering twice would double every delivery: after a 5xx the request may have
    # been processed, so it is raised, not retried.
    router, client = mocked
    route = router.post("/api/webhooks").respond(status_code=503, json={"message": "down"})
    with pytest.raises(InternalServerError):
        await client.webhooks.register("https://shop.example/hooks", ["transfer.*"])
    assert route.call_count == 1
