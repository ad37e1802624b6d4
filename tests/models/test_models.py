"""Models and conversion: PayoutRequest validation, Payout parsing, exact decimals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from client_fakes import canonical, load_data, payout_json

from ecartpay_async import (
    EcartPayError,
    Page,
    Payout,
    PayoutCharge,
    PayoutItem,
    PayoutRequest,
    PayoutStatus,
    Transaction,
    ValidationError,
    _json,
)
from ecartpay_async._convert import ShapeError, format_datetime, structure, unstructure
from ecartpay_async.resources.payouts import parse_page

# -- PayoutRequest ------------------------------------------------------------------------


def test_email_shape():
    request = PayoutRequest(
        email=" ana@example.com ", reference_id="payroll-2026-11-0001",
        amount=Decimal("1250.50"), currency="mxn", require_confirmation=True,
    )
    assert request.email == "ana@example.com"
    assert request.currency == "MXN"
    assert request.amount == Decimal("1250.50")
    body = request.to_body()
    assert body == {
        "amount": Decimal("1250.50"), "currency": "MXN", "email": "ana@example.com",
        "reference_id": "payroll-2026-11-0001", "require_confirmation": True,
    }
    assert isinstance(body["amount"], Decimal)
    assert _json.dumps(body) == (
        b'{"amount":1250.50,"currency":"MXN","email":"ana@example.com",'
        b'"reference_id":"payroll-2026-11-0001","require_confirmation":true}'
    )


def test_customer_shape_without_reference_id():
    request = PayoutRequest(
        customer_id="657b928db4c08f6f66847b09", payment_method_id="65ae8d76219f93a7c14ceb82",
        amount=10, currency="MXN",
    )
    assert request.reference_id is None
    assert request.email is None
    assert request.to_body() == {
        "amount": Decimal(10), "currency": "MXN", "customer_id": "657b928db4c08f6f66847b09",
        "payment_method_id": "65ae8d76219f93a7c14ceb82", "require_confirmation": False,
    }


def test_customer_shape_with_reference_id():
    request = PayoutRequest(
        customer_id="c1", payment_method_id="pm1", reference_id="r-1", amount="10.00",
        currency="USD",
    )
    assert request.to_body()["reference_id"] == "r-1"


def test_requests_are_frozen_and_slotted():
    request = PayoutRequest(email="a@b.co", reference_id="r", amount=1, currency="MXN")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.amount = Decimal(2)  # type: ignore[misc]
    assert not hasattr(request, "__dict__")


_GOOD = {"email": "ana@example.com", "reference_id": "r-1", "amount": "10", "currency": "MXN"}


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"email": "ana.example.com"}, "email", "not a valid email"),
        ({"email": "ana@"}, "email", "not a valid email"),
        ({"email": "ana@example"}, "email", "not a valid email"),
        ({"email": "a na@example.com"}, "email", "not a valid email"),
        ({"email": "ana@@example.com"}, "email", "not a valid email"),
        ({"email": ""}, "email", "required"),
        ({"email": None}, "email", "required"),
        ({"reference_id": ""}, "reference_id", "non-empty"),
        ({"reference_id": "   "}, "reference_id", "non-empty"),
        ({"reference_id": None}, "reference_id", "required"),
        ({"reference_id": 12}, "reference_id", "non-empty string"),
        ({"amount": Decimal("NaN")}, "amount", "finite"),
        ({"amount": Decimal("sNaN")}, "amount", "finite"),
        ({"amount": "NaN"}, "amount", "finite"),
        ({"amount": float("nan")}, "amount", "finite"),
        ({"amount": Decimal("Infinity")}, "amount", "finite"),
        ({"amount": float("inf")}, "amount", "finite"),
        ({"amount": "-inf"}, "amount", "finite"),
        ({"amount": 0}, "amount", "greater than 0"),
        ({"amount": Decimal("0.00")}, "amount", "greater than 0"),
        ({"amount": -1}, "amount", "greater than 0"),
        ({"amount": "-0.01"}, "amount", "greater than 0"),
        ({"amount": Decimal("1.005")}, "amount", "too many decimals"),
        ({"amount": "0.001"}, "amount", "too many decimals"),
        ({"amount": 1.005}, "amount", "too many decimals"),
        ({"amount": Decimal("10.5"), "currency": "CLP"}, "amount", "no decimals"),
        ({"amount": "1000.01", "currency": "CLP"}, "amount", "no decimals"),
        ({"amount": True}, "amount", "boolean"),
        ({"amount": False}, "amount", "boolean"),
        ({"amount": None}, "amount", "decimal number"),
        ({"amount": "ten"}, "amount", "not a decimal number"),
        ({"amount": [10]}, "amount", "decimal number"),
        ({"amount": Decimal("1E+30")}, "amount", "too large"),
        ({"amount": "1e999999"}, "amount", "scientific notation"),
        ({"currency": "XYZ"}, "currency", "unknown currency"),
        ({"currency": "ARG"}, "currency", "unknown currency"),  # the OpenAPI typo
        ({"currency": ""}, "currency", "currency code"),
        ({"currency": None}, "currency", "currency code"),
        ({"require_confirmation": "false"}, "require_confirmation", "true or false"),
        ({"customer_id": "c1"}, "email", "not both"),
        ({"email": None, "customer_id": "c1"}, "payment_method_id", "non-empty"),
        ({"email": None, "payment_method_id": "pm1"}, "customer_id", "non-empty"),
        ({"email": None, "customer_id": "", "payment_method_id": "pm"}, "customer_id", ""),
    ],
)
def test_validation_names_the_field(changes, field, reason):
    with pytest.raises(ValidationError) as info:
        PayoutRequest(**{**_GOOD, **changes})
    error = info.value
    assert error.field == field
    assert reason in error.reason
    assert str(error).startswith(f"{field}: ")
    assert isinstance(error, EcartPayError)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (0.1, "MXN", "0.10"),
        (1250.5, "MXN", "1250.50"),
        (0.3, "USD", "0.30"),
        (1000.0, "CLP", "1000"),
        (19.99, "EUR", "19.99"),
        (Decimal("10.500"), "MXN", "10.50"),
        ("  7  ", "MXN", "7.00"),
        (5, "MXN", "5.00"),
        (Decimal("1000.0"), "CLP", "1000"),
    ],
)
def test_amounts_are_exact_and_floats_go_through_str(amount, currency, text):
    request = PayoutRequest(email="a@b.co", reference_id="r", amount=amount, currency=currency)
    assert isinstance(request.amount, Decimal)
    assert str(request.amount) == text
    assert _json.dumps(request.to_body()).startswith(f'{{"amount":{text},'.encode())


def test_float_never_goes_through_binary():
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...
    request = PayoutRequest(email="a@b.co", reference_id="r", amount=0.1, currency="MXN")
    assert request.amount == Decimal("0.10")
    assert request.amount != Decimal(0.1)  # noqa: RUF032 (the point of the test)


def test_from_mapping():
    request = PayoutRequest.from_mapping(dict(_GOOD))
    assert request.amount == Decimal("10.00")
    with pytest.raises(ValidationError) as info:
        PayoutRequest.from_mapping({**_GOOD, "amout": "3"})
    assert info.value.field == "amout"
    without = dict(_GOOD)
    del without["amount"]
    with pytest.raises(ValidationError, match="amount"):
        PayoutRequest.from_mapping(without)


# -- Payout ---------------------------------------------------------------------------------


def test_payout_with_every_answer_field():
    data = load_data("payout_exact_decimals.json")
    payout = structure(data, Payout)
    assert payout.id == "65afee87ec939a1cae6223e4"
    assert payout.authorization_id == "6180483beab9d945a86da3c1"
    assert payout.account_id == "65af093d10a09912d8aa8bbd"
    assert payout.reference_id == "payroll-2026-11-0001"
    assert payout.reference == "65afee86ec939a1cae6223de"
    assert payout.status is PayoutStatus.PAID
    assert payout.is_paid
    assert not payout.is_pending
    assert payout.currency == "MXN"
    assert payout.amount == Decimal("1250.50")
    assert str(payout.amount) == "1250.50"
    assert str(payout.fee) == "37.82"
    assert str(payout.exchange) == "1.0000"
    assert payout.require_confirmation is False
    utc = timezone.utc
    assert payout.available_at == datetime(2024, 1, 23, 16, 51, 19, 318000, tzinfo=utc)
    assert payout.created_at == datetime(2024, 1, 23, 16, 51, 19, 326000, tzinfo=utc)
    assert payout.updated_at == payout.created_at
    assert payout.created_at.tzinfo is not None
    assert payout.customer_id == "657b928db4c08f6f66847b09"
    assert payout.payment_method_id == "65ae8d76219f93a7c14ceb82"
    charge, payment = payout.transactions
    assert isinstance(charge, Transaction)
    assert (charge.id, charge.account_id, charge.transaction_id, charge.type, charge.gateway) == (
        "65afee87ec939a1cae6223e9", "TR00001140A", "TR00001140A", "charge", "pay"
    )
    assert charge.status is PayoutStatus.PAID
    assert str(charge.amount) == "1250.50"
    assert str(charge.fee) == "0.10"
    assert charge.currency == "MXN"
    assert payment.type == "payment"
    assert payment.status == "settling"
    assert not isinstance(payment.status, PayoutStatus)
    assert payment.extra == {"network_ref": "SPEI-00981"}
    assert payment.network_ref == "SPEI-00981"
    assert payout.extra == {"batch_tag": "november"}
    assert payout.batch_tag == "november"


def test_unknown_and_known_statuses():
    known = structure(payout_json(status="pending"), Payout)
    assert known.status is PayoutStatus.PENDING
    assert known.status == "pending"
    assert known.is_pending
    unknown = structure(payout_json(status="in_review"), Payout)
    assert unknown.status == "in_review"
    assert type(unknown.status) is str
    assert not unknown.is_paid
    assert not unknown.is_pending
    assert unstructure(unknown)["status"] == "in_review"
    assert unstructure(known)["status"] == "pending"
    assert type(unstructure(known)["status"]) is str


def test_unknown_fields_are_kept_and_reachable():
    payout = structure(payout_json(new_field={"a": 1}, _id="x", __v=0), Payout)
    assert payout.extra == {"new_field": {"a": 1}, "_id": "x", "__v": 0}
    assert payout.new_field == {"a": 1}
    assert payout._id == "x"
    with pytest.raises(AttributeError):
        _ = payout.not_there
    assert "new_field" in unstructure(payout)


def test_null_fields_fall_back_to_defaults():
    payout = structure(
        payout_json(fee=None, exchange=None, reference_id=None, available_at=None,
                    transactions=None, require_confirmation=None, email=None),
        Payout,
    )
    assert payout.fee is None
    assert payout.exchange is None
    assert payout.reference_id is None
    assert payout.available_at is None
    assert payout.require_confirmation is None
    assert payout.transactions == ()
    assert payout.extra == {}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"status": "paid", "amount": 1, "currency": "MXN"},  # no id
        payout_json(id=None),
        payout_json(amount="ten"),
        payout_json(amount="NaN"),
        payout_json(created_at="yesterday"),
        payout_json(transactions=[1, 2]),
        payout_json(transactions="none"),
        [payout_json()],
        "payout",
        None,
    ],
)
def test_answers_that_do_not_fit_are_shape_errors(data):
    with pytest.raises(ShapeError, match="Payout"):
        structure(data, Payout)


def test_timestamps_become_aware_utc():
    payout = structure(
        payout_json(created_at="2024-01-23T10:51:19.326-06:00", updated_at="2024-01-23T16:51:19"),
        Payout,
    )
    assert payout.created_at == datetime(2024, 1, 23, 16, 51, 19, 326000, tzinfo=timezone.utc)
    assert payout.created_at.utcoffset() == timedelta(0)
    assert payout.updated_at.tzinfo is not None
    assert format_datetime(payout.created_at) == "2024-01-23T16:51:19.326Z"


def test_payouts_are_frozen_and_slotted():
    payout = structure(payout_json(), Payout)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        payout.status = "failed"  # type: ignore[misc]
    assert not hasattr(payout, "__dict__")


def test_json_text_of_amounts_is_exact():
    raw = (
        b'{"id":"p1","status":"paid","currency":"MXN","amount":1250.50,"fee":37.820,'
        b'"exchange":1.0000,"big":12345678901234567890.123456789}'
    )
    payout = structure(_json.loads(raw), Payout)
    assert payout.amount.as_tuple().exponent == -2
    text = _json.dumps(unstructure(payout))
    assert b'"amount":1250.50' in text
    assert b'"fee":37.820' in text
    assert b'"exchange":1.0000' in text
    assert b'"big":12345678901234567890.123456789' in text
    assert canonical(_json.loads(text)) == canonical(_json.loads(raw))


def test_exact_fixture_round_trips():
    data = load_data("payout_exact_decimals.json")
    again = unstructure(structure(data, Payout))
    assert again == data
    assert canonical(again) == canonical(data)


# -- items, charges, pages ------------------------------------------------------------------


def test_items_and_charges_validate():
    item = PayoutItem(name="Collar Oro Z320", quantity=1, price="5", discount=0.5)
    assert item.discount == Decimal("0.5")
    assert item.price == Decimal(5)
    assert PayoutCharge(name="Tarifa", amount="0.50").amount == Decimal("0.50")
    for kwargs, field in [
        ({"quantity": 0, "price": 1}, "quantity"),
        ({"quantity": 1, "price": -1}, "price"),
        ({"quantity": 1, "price": 1, "discount": -0.5}, "discount"),
        ({"quantity": 1, "price": "abc"}, "number"),
    ]:
        with pytest.raises(ValidationError) as info:
            PayoutItem(name="x", **kwargs)
        assert info.value.field == field
    with pytest.raises(ValidationError) as info:
        PayoutCharge(name="fee", amount=-1)
    assert info.value.field == "amount"


def test_parse_page_envelope_and_bare_list():
    envelope = parse_page({"count": 120, "docs": [{"id": 1}], "pages": "3"})
    assert envelope == Page(docs=({"id": 1},), count=120, pages=3)
    assert parse_page([{"id": 1}, {"id": 2}]) == Page(docs=({"id": 1}, {"id": 2}))
    assert parse_page({"data": []}) == Page(docs=())
    for bad in ({"count": 1}, "docs", None, {"docs": "x"}):
        with pytest.raises(ValueError, match="list"):
            parse_page(bad)
