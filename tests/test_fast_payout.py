"""The fast paths for the usual payout answer read exactly what the converter reads:
the table (``structure_payout``, decoded JSON in) and the one-pass decoder of the
documented answer (``payout_from_json``, bytes in)."""

from __future__ import annotations

import copy
import decimal
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from client_fakes import load_data, payout_json
from hypothesis import given
from hypothesis import strategies as st

from ecartpay_async import _json
from ecartpay_async._convert import ShapeError, payout_from_json, structure, structure_payout
from ecartpay_async.models.payouts import Payout


def _payout_answers() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if {"id", "status", "amount", "currency"} <= node.keys():
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in ("openapi_payout_examples.json", "payouts_md_examples.json",
                 "payout_exact_decimals.json"):
        # Read as the pipeline reads answers: numbers with a fraction as Decimal.
        walk(_json.loads(_json.dumps(load_data(name))))
    return found


VARIANTS: list[dict[str, Any]] = [
    payout_json(),
    payout_json(status="on_hold_for_review"),  # a status the SDK does not know
    payout_json(fee=None, exchange=None, reference_id=None, available_at=None),
    payout_json(amount=1250, fee=0),  # integers
    payout_json(new_field={"x": 1}, other=None),  # unknown keys, kept in extra
    payout_json(amount="1250.50"),  # text amount: the converter's rules
    payout_json(id=12345),  # a number for a text field
    payout_json(require_confirmation=1),
    payout_json(created_at="2021-11-29T20:49:23"),  # naive: read as UTC
    payout_json(transactions=[{"id": "t1", "type": "charge", "amount": Decimal("1.5")}]),
]


@pytest.mark.parametrize("answer", _payout_answers() + VARIANTS)
def test_the_fast_path_equals_the_converter(answer: dict[str, Any]) -> None:
    expected = structure(copy.deepcopy(answer), Payout)
    got = structure_payout(copy.deepcopy(answer), Payout)
    assert got == expected
    assert got.extra == expected.extra
    assert type(got.status) is type(expected.status)


@pytest.mark.parametrize("answer", [
    {"status": "paid", "amount": 1, "currency": "MXN"},  # no id
    payout_json(amount="ten"),
    payout_json(created_at="yesterday"),
    payout_json(amount=Decimal("NaN")),
    [payout_json()],
])
def test_the_fast_path_refuses_as_the_converter_does(answer: Any) -> None:
    with pytest.raises((ShapeError, ValueError)) as fast:
        structure_payout(copy.deepcopy(answer), Payout)
    with pytest.raises((ShapeError, ValueError)) as slow:
        structure(copy.deepcopy(answer), Payout)
    assert type(fast.value) is type(slow.value)
    assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize("body", [
    {"amount": Decimal("1250.50"), "currency": "MXN", "email": "ana@example.com",
     "reference_id": "r-1", "require_confirmation": False},
    {"amount": Decimal("1E+2"), "note": "exponent: the stdlib path"},
    {"amount": Decimal("0.0000001"), "x": None, "n": 3},
    {"amount": Decimal("-0"), "text": "tab\t quote\" slash\\ \u00fc \u20ac \u2028 \x01 \x7f"},
    {"nested": {"amount": Decimal("1.5")}, "list": [1, Decimal("2.50")]},
])
def test_the_fast_encoder_writes_what_the_json_module_writes(body: dict[str, Any]) -> None:
    from ecartpay_async._http import _encoder

    assert _encoder()(body) == _json.dumps(body)
    with decimal.localcontext(capitals=0):  # str() then writes an exponent as "e"
        assert _encoder()(body) == _json.dumps(body)


@pytest.mark.parametrize("body", [{"amount": 1.5}, {"amount": Decimal("NaN")}])
def test_the_fast_encoder_refuses_what_the_json_module_refuses(body: dict[str, Any]) -> None:
    from ecartpay_async._http import _encoder

    with pytest.raises((TypeError, ValueError)) as fast:
        _encoder()(body)
    with pytest.raises((TypeError, ValueError)) as slow:
        _json.dumps(body)
    assert type(fast.value) is type(slow.value)


@pytest.mark.parametrize("answer", _payout_answers() + VARIANTS)
def test_the_one_pass_decoder_reads_what_the_converter_reads_or_declines(
    answer: dict[str, Any],
) -> None:
    expected = structure(copy.deepcopy(answer), Payout)
    got = payout_from_json(_json.dumps(answer))
    if got is None:
        return  # not the documented shape: the table and the converter read it
    assert got == expected
    assert got.extra == expected.extra == {}
    assert type(got.status) is type(expected.status)


def test_the_documented_answers_take_the_one_pass_decoder() -> None:
    answers = [*_payout_answers(), payout_json(), payout_json(email="ana@example.com")]
    # Payouts, not their transactions; a customer payout's transactions are the table's
    # and the converter's to read.
    documented = {f.name for f in attrs.fields(Payout)} - {"transactions", "extra"}
    payouts = [a for a in answers if set(a) <= documented]
    assert len(payouts) >= 4
    for answer in payouts:
        assert payout_from_json(_json.dumps(answer)) == structure(copy.deepcopy(answer), Payout)


@pytest.mark.parametrize("content", [
    b"not json", b"", b"[]", b'{"id": "p"}', b'{"id":"p","status":"paid","amount":NaN}',
    _json.dumps(payout_json(amount="NaN")), _json.dumps(payout_json(amount="ten")),
    _json.dumps(payout_json(created_at="yesterday")),
    _json.dumps(payout_json(created_at="2021-11-29T20:49:23")),  # naive: the table's
])
def test_the_one_pass_decoder_declines_what_it_does_not_know(content: bytes) -> None:
    assert payout_from_json(content) is None


_MONEY = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 30
) | st.integers(min_value=-(10**20), max_value=10**20)
_TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-6)),
                               timezone(timedelta(hours=5, minutes=30))]),
)


@given(
    amount=_MONEY, fee=st.none() | _MONEY, status=st.sampled_from(["paid", "pending", "new"]),
    created=st.none() | _TIMES, millis=st.booleans(), text=st.text(max_size=12),
    flag=st.none() | st.booleans(),
)
def test_the_one_pass_decoder_equals_the_converter_on_any_documented_answer(
    amount: Decimal | int, fee: Decimal | int | None, status: str, created: datetime | None,
    millis: bool, text: str, flag: bool | None,
) -> None:
    stamp = None if created is None else created.isoformat(
        timespec="milliseconds" if millis else "microseconds"
    )
    answer = payout_json(amount=amount, fee=fee, status=status, created_at=stamp,
                         reference=text, require_confirmation=flag)
    content = _json.dumps(answer)
    got = payout_from_json(content)
    assert got is not None
    expected = structure(_json.loads(content), Payout)
    assert got == expected
    assert type(got.status) is type(expected.status)
    assert got.created_at is None or got.created_at.tzinfo is timezone.utc
