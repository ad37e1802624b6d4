"""Pure parts of the emulator: fault specs, the dice, fees, JWTs, records."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from ecartpay_async.sandbox import FaultInjector, FaultSpec, FeeSchedule, tokens
from ecartpay_async.sandbox.faults import endpoint_for
from ecartpay_async.sandbox.records import Account, iso


def test_spec_string_expands_5xx_and_scopes_endpoints() -> None:
    spec = FaultSpec.parse("5xx=0.3,429=0.05,latency_ms=50,payouts.create:drop_after_commit=0.2")
    assert spec.settings["500"] == pytest.approx(0.1)
    assert spec.settings["503"] == pytest.approx(0.1)
    assert spec.settings["429"] == 0.05
    assert spec.resolve("payouts.create")["drop_after_commit"] == 0.2
    assert "drop_after_commit" not in spec.resolve("payouts.list")
    assert spec.resolve("payouts.list")["latency_ms"] == 50


def test_spec_mapping_equals_string_and_round_trips() -> None:
    text = FaultSpec.parse("reset=0.1,payouts.list:truncated=0.5")
    mapping = FaultSpec.parse({"reset": 0.1, "payouts.list": {"truncated": 0.5}})
    assert text == mapping
    assert FaultSpec.parse(mapping.to_json()) == mapping
    assert FaultSpec.parse(str(mapping)) == mapping


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("bogus=0.1", "unknown fault"),
        ("reset=2", "within 0..1"),
        ("reset", "key=value"),
        ("reset=x", "not a number"),
        ("latency_ms=-1", "negative"),
        ("5xx=0.9,429=0.2", "more than 1"),
        ("nowhere:reset=0.1", "unknown endpoint"),
    ],
)
def test_bad_specs_are_refused(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FaultSpec.parse(spec)


def test_same_seed_same_faults() -> None:
    def run(seed: int) -> list[str | None]:
        injector = FaultInjector("5xx=0.3,reset=0.2,jitter_ms=5", seed=seed)
        return [injector.decide("payouts.create").kind for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    kinds = run(7)
    assert {"500", "502", "503", "reset", None} == set(kinds)


def test_injector_counts_and_latency() -> None:
    injector = FaultInjector("429=1,latency_ms=20", seed=1, latency_ms=5)
    decision = injector.decide("token")
    assert decision.kind == "429"
    assert decision.delay == pytest.approx(0.025)
    assert injector.counts["429"] == 1
    injector.configure(None)
    assert injector.decide("token").kind is None


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("POST", "/api/payouts", "payouts.create"),
        ("GET", "/api/payouts/", "payouts.list"),
        ("GET", "/api/payouts/abc", "payouts.retrieve"),
        ("PUT", "/api/payouts/abc/confirm", "payouts.confirm"),
        ("POST", "/api/orders/abc/refund", "orders.refund"),
        ("POST", "/api/authorizations/token", "token"),
        ("DELETE", "/api/payouts/abc", None),
    ],
)
def test_endpoint_names(method: str, path: str, name: str | None) -> None:
    assert endpoint_for(method, path) == name


def test_default_fees_reproduce_the_documents() -> None:
    # 1000 * 3.26 % = 32.60; with 16 % IVA 37.816, rounded half up: 37.82.
    assert FeeSchedule().fee(Decimal("1000.00"), "MXN") == Decimal("37.82")
    openapi = FeeSchedule(percent="3.5", fixed="3", tax="16")
    assert openapi.fee(Decimal("100.00"), "MXN") == Decimal("7.54")
    assert FeeSchedule().fee(Decimal("1000"), "CLP") == Decimal("38")
    assert FeeSchedule(fixed="10").fee(Decimal("5.00"), "MXN") == Decimal("5.00")
    with pytest.raises(ValueError, match="negative"):
        FeeSchedule(percent="-1")


def test_jwt_is_standard_hs256() -> None:
    key = b"k" * 32
    token = tokens.encode({"id": "a", "account_id": "b", "iat": 1, "exp": 3601}, key)
    header, payload, signature = token.split(".")

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    assert json.loads(unb64(header)) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(unb64(payload))["exp"] == 3601
    expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert unb64(signature) == expected
    assert tokens.decode(token, key)["account_id"] == "b"
    for bad in (token + "x", token.replace(payload, payload[:-2]), "a.b", "é.é.é"):
        with pytest.raises(tokens.InvalidToken):
            tokens.decode(bad, key)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(token, b"other")


def test_iso_has_milliseconds_and_z() -> None:
    assert iso(1638218963.889) == "2021-11-29T20:49:23.889Z"


def test_account_repr_hides_secrets() -> None:
    account = Account(
        "i", "a@b.co", "z", public_key="pub", private_key="SECRET-1", webhook_secret="SECRET-2"
    )
    assert "SECRET" not in repr(account)
