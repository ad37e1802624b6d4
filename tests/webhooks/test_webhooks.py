"""Webhook verification against vectors computed independently of the implementation.

Each digest below was computed once with a separate snippet, not with the SDK::

    hmac.new(b"whsec_test_secret", "<timestamp>.<webhook id>.<data>".encode("utf-8"),
             hashlib.sha256).hexdigest()

and the ``JSON.stringify`` text of the re-indented body was checked with Node.js.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ecartpay_async.errors import EcartPayError, ValidationError, WebhookSignatureError
from ecartpay_async.models.orders import Order, OrderStatus
from ecartpay_async.models.payouts import Payout
from ecartpay_async.webhooks import UnknownEventData, WebhookEvent, verify_webhook

SECRET = "whsec_test_secret"
TS = "1700000000000"
NOW = 1_700_000_000.0

ORDER_DATA = (
    '{"id":"ord_1","number":"OR0000057966","status":"paid","currency":"MXN",'
    '"totals":{"subtotal":1000,"total":1000},"fee":37.82,'
    '"payout":{"email":"seller@example.com","amount":962.18,"percent":false,"_id":"po_1"},'
    '"first_name":"Niño Pérez"}'
)
ORDER_BODY = ('{"event":"orders.confirmation","data":' + ORDER_DATA + "}").encode()
ORDER_SIG = "b87206d1b95b581341ee9819b854bed257dcccc11c4af1b0d3e3b8057cb1a7c3"

TRANSFER_BODY = (
    b'{"event":"transfer.created","data":{"id":"pay_1","status":"paid","amount":962.18,'
    b'"currency":"MXN","reference_id":"order-ord_1","email":"seller@example.com"}}'
)
TRANSFER_SIG = "7737522152fcd1b5b25c06c74433a12d291151d7787190fbfe2d16078025c9e1"

# Re-indented, non-ASCII escaped, trailing zeros: the signed text is JSON.stringify(data),
# {"id":"ord_2","first_name":"Niño","fee":37.82,"totals":{"total":1000}}.
PRETTY_BODY = (
    b'{\n  "event": "orders.update",\n  "data": {"id": "ord_2", "first_name": "Ni\\u00f1o",'
    b' "fee": 37.820, "totals": {"total": 1000.00}}\n}'
)
PRETTY_SIG = "babd00106806d742cb9a90607dc706c96b3b3cb4fff4161824471f0bc12efbdb"

# A sender that signs its own compact text verbatim, trailing zeros included.
RAW_DATA = '{"id":"ord_3","fee":37.820,"totals":{"total":1000.00},"first_name":"Niño"}'
RAW_BODY = ('{"event":"orders.update","data":' + RAW_DATA + "}").encode()
RAW_SIG = "b3f9c4b1ebfc48845fa332f4814938c281b80a3da89fea16ae028a51d12c5f08"

OTHER_BODY = (
    '{"event":"withdrawals.created","data":{"id":"wd_1","amount":1000,"note":"ñ"}}'.encode()
)
OTHER_SIG = "77c19365eebcfda98b86ee5cf6fd8d6fe9853d78c87ae42fc1956814546411d9"

ALL_SIGNATURES = (ORDER_SIG, TRANSFER_SIG, PRETTY_SIG, RAW_SIG, OTHER_SIG)


def headers(sig: str, webhook_id: str, ts: str = TS) -> dict[str, str]:
    return {
        "x-pay-timestamp": ts,
        "x-pay-webhook-id": webhook_id,
        "x-pay-signature": f"SHA256={sig}",
    }


def verify(body: bytes, hdrs: dict[str, str], **kwargs: object) -> WebhookEvent:
    return verify_webhook(body, hdrs, SECRET, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_order_event() -> None:
    event = verify(ORDER_BODY, headers(ORDER_SIG, "wh_1"))
    assert event.event == "orders.confirmation"
    assert event.id == "wh_1"
    assert event.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    order = event.data
    assert isinstance(order, Order)
    assert order.status is OrderStatus.PAID
    assert order.fee == Decimal("37.82")
    assert order.total == 1000
    assert order.payout is not None
    assert order.payout.amount == Decimal("962.18")
    assert order.payout.id == "po_1"
    assert order.first_name == "Niño Pérez"
    assert event.raw["data"]["payout"]["amount"] == Decimal("962.18")


def test_transfer_event_is_a_payout() -> None:
    event = verify(TRANSFER_BODY, headers(TRANSFER_SIG, "wh_2"))
    assert isinstance(event.data, Payout)
    assert event.data.amount == Decimal("962.18")
    assert event.data.reference_id == "order-ord_1"


def test_reindented_body_verifies_through_stringify() -> None:
    event = verify(PRETTY_BODY, headers(PRETTY_SIG, "wh_3"))
    assert isinstance(event.data, Order)
    assert event.data.first_name == "Niño"
    assert str(event.data.fee) == "37.820"


def test_exact_data_text_verifies() -> None:
    event = verify(RAW_BODY, headers(RAW_SIG, "wh_4"))
    assert isinstance(event.data, Order)
    assert event.data.id == "ord_3"


def test_other_events_keep_the_mapping() -> None:
    event = verify(OTHER_BODY, headers(OTHER_SIG, "wh_5"))
    assert event.data == {"id": "wd_1", "amount": 1000, "note": "ñ"}


def test_event_that_does_not_fit_its_model_is_an_unknown_event() -> None:
    # transfer.* data without a payout's required fields: verified, typed as unknown.
    event = verify(
        OTHER_BODY.replace(b"withdrawals.created", b"transfer.created"), headers(OTHER_SIG, "wh_5")
    )
    assert isinstance(event.data, UnknownEventData)
    assert event.data.expected == "Payout"
    assert event.data == {"id": "wd_1", "amount": 1000, "note": "ñ"}


def test_headers_are_case_insensitive() -> None:
    hdrs = {
        "X-Pay-Timestamp": TS,
        "X-PAY-WEBHOOK-ID": "wh_1",
        "X-Pay-Signature": "sha256=" + ORDER_SIG.upper(),
    }
    assert verify(ORDER_BODY, hdrs).id == "wh_1"


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamp_within_tolerance(skew: int) -> None:
    verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), SECRET, now=NOW + skew)


def check_of(call: Callable[[], object]) -> WebhookSignatureError:
    with pytest.raises(WebhookSignatureError) as info:
        call()
    assert isinstance(info.value, EcartPayError)
    return info.value


@pytest.mark.parametrize("skew", [-301, 301, 86_400, -86_400 * 365])
def test_timestamp_outside_tolerance(skew: int) -> None:
    error = check_of(
        lambda: verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), SECRET, now=NOW + skew)
    )
    assert error.check == "timestamp"


def test_tolerance_is_configurable() -> None:
    hdrs = headers(ORDER_SIG, "wh_1")
    verify_webhook(ORDER_BODY, hdrs, SECRET, now=NOW + 3600, tolerance=3600)
    assert (
        check_of(lambda: verify_webhook(ORDER_BODY, hdrs, SECRET, now=NOW + 1, tolerance=0)).check
        == "timestamp"
    )


def test_default_now_is_the_clock() -> None:
    # The vectors are from 2023: today they are far outside the default tolerance.
    assert (
        check_of(lambda: verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), SECRET)).check
        == "timestamp"
    )


TAMPERED: list[tuple[str, bytes, dict[str, str]]] = [
    ("amount", ORDER_BODY.replace(b"962.18", b"962.19"), headers(ORDER_SIG, "wh_1")),
    ("email", ORDER_BODY.replace(b"seller@", b"mallory@"), headers(ORDER_SIG, "wh_1")),
    ("name", ORDER_BODY.replace("Niño".encode(), b"Nino"), headers(ORDER_SIG, "wh_1")),
    ("number", ORDER_BODY.replace(b"1000", b"1000.5", 1), headers(ORDER_SIG, "wh_1")),
    ("webhook id", ORDER_BODY, headers(ORDER_SIG, "wh_2")),
    ("timestamp", ORDER_BODY, headers(ORDER_SIG, "wh_1", ts="1700000000001")),
    ("other signature", ORDER_BODY, headers(TRANSFER_SIG, "wh_1")),
    ("flipped digit", ORDER_BODY, headers(ORDER_SIG[:-1] + "4", "wh_1")),
]


@pytest.mark.parametrize(("what", "body", "hdrs"), TAMPERED, ids=[t[0] for t in TAMPERED])
def test_tampering_fails_the_signature(what: str, body: bytes, hdrs: dict[str, str]) -> None:
    assert check_of(lambda: verify(body, hdrs)).check == "signature"


def test_wrong_secret_fails_the_signature() -> None:
    error = check_of(
        lambda: verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), "whsec_other", now=NOW)
    )
    assert error.check == "signature"


@pytest.mark.parametrize("missing", ["x-pay-timestamp", "x-pay-webhook-id", "x-pay-signature"])
def test_missing_header(missing: str) -> None:
    hdrs = headers(ORDER_SIG, "wh_1")
    del hdrs[missing]
    error = check_of(lambda: verify(ORDER_BODY, hdrs))
    assert error.check == "missing_header"
    assert missing in error.message
    hdrs[missing] = "  "
    assert check_of(lambda: verify(ORDER_BODY, hdrs)).check == "missing_header"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-pay-signature", ORDER_SIG),
        ("x-pay-signature", "SHA1=" + ORDER_SIG),
        ("x-pay-signature", "SHA256:" + ORDER_SIG),
        ("x-pay-signature", "SHA256=" + ORDER_SIG[:-2]),
        ("x-pay-signature", "SHA256=" + ORDER_SIG[:-1] + "g"),
        ("x-pay-signature", "SHA256=" + ORDER_SIG + ",v2"),
        ("x-pay-timestamp", "1700000000.000"),
        ("x-pay-timestamp", "-1700000000000"),
        ("x-pay-timestamp", "soon"),
    ],
)
def test_bad_format(header: str, value: str) -> None:
    hdrs = headers(ORDER_SIG, "wh_1")
    hdrs[header] = value
    assert check_of(lambda: verify(ORDER_BODY, hdrs)).check == "bad_format"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe{}",
        b"[1,2]",
        b'{"event":"orders.update"}',
        b'{"data":{}}',
        b'{"event":7,"data":{}}',
        b'{"event":"orders.update","data":{}} trailing',
        b'{"event":"orders.update","data":{"fee":NaN}}',
        b'{"event":"orders.update" "data":{}}',
        # A second "data" after the signed one: refused, never read.
        ORDER_BODY[:-1] + b',"data":{"id":"ord_evil","fee":0}}',
    ],
)
def test_bad_body(body: bytes) -> None:
    assert check_of(lambda: verify(body, headers(ORDER_SIG, "wh_1"))).check == "body"


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError):
        verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), "", now=NOW)
    with pytest.raises(ValidationError):
        verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), SECRET, now=NOW, tolerance=-1)


def test_no_secret_or_signature_in_errors_or_reprs() -> None:
    failures: list[Callable[[], object]] = [
        lambda: verify(ORDER_BODY.replace(b"962.18", b"1"), headers(ORDER_SIG, "wh_1")),
        lambda: verify_webhook(ORDER_BODY, headers(ORDER_SIG, "wh_1"), SECRET, now=0),
        lambda: verify(ORDER_BODY, {"x-pay-timestamp": TS}),
        lambda: verify(ORDER_BODY, headers("zz", "wh_1")),
        lambda: verify(b"{", headers(ORDER_SIG, "wh_1")),
        lambda: verify(ORDER_BODY, headers(TRANSFER_SIG, "wh_1")),
    ]
    for call in failures:
        error = check_of(call)
        for text in (str(error), repr(error), error.message, repr(error.args)):
            assert SECRET not in text
            for sig in ALL_SIGNATURES:
                assert sig not in text.lower()
    event = verify(ORDER_BODY, headers(ORDER_SIG, "wh_1"))
    assert SECRET not in repr(event)
    assert ORDER_SIG not in repr(event)


def test_numbers_stay_text_until_the_signature_matched() -> None:
    from ecartpay_async import _json

    data = _json.loads_raw('{"a":1000.00,"b":962.180,"c":1e1000000,"d":"\\ud800"}')
    # As JavaScript writes them where that is cheap; a huge one as it came, unexpanded.
    assert _json.stringify(data) == '{"a":1000,"b":962.18,"c":1e1000000,"d":"\\ud800"}'
    exact = _json.exact_numbers(data)
    assert exact["a"] == Decimal("1000.00")
    assert exact["c"] == Decimal("1e1000000")
