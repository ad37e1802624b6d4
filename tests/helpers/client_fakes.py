"""A client on a respx-mocked API: constants, answers, fake time (fixtures: tests/conftest.py)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx

from ecartpay_async import AsyncClient, RetryPolicy, _json

BASE = "https://api.ecartpay.test"
TOKEN_PATH = "/api/authorizations/token"
PAYOUTS = "/api/payouts"

# Distinctive values, so that the secrets test can search for them anywhere.
PUBLIC = "pk_test_Qf3LmZx81aaa"
PRIVATE = "sk_test_Vb72NcE0pR44zzz"
BASIC = base64.b64encode(f"{PUBLIC}:{PRIVATE}".encode()).decode()

DATA = Path(__file__).parents[1] / "data" / "payouts"
# Ecart Pay's own documents, as published (payouts.md, and the payout paths of its
# OpenAPI file): kept in the repository so that every test runs from a fresh clone.
REFERENCE = DATA / "reference"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(*, iat: int | None = 1_700_000_000, lifetime: int = 3600, **claims: Any) -> str:
    """A JWT shaped like Ecart Pay's (HS512, claims id/account_id/iat/exp); fake signature."""
    header = {"alg": "HS512", "typ": "JWT"}
    payload: dict[str, Any] = {"id": "672a850371be0ecf554d0516", "account_id": "672a85037"}
    if iat is not None:
        payload["iat"] = iat
        payload["exp"] = iat + lifetime
    payload.update(claims)
    signature = b64url(b"not-a-real-signature-" + json.dumps(payload).encode()[:16])
    return ".".join(
        [b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), signature]
    )


TOKEN = make_jwt(iat=1_700_000_000, nonce="first")
TOKEN2 = make_jwt(iat=1_700_003_000, nonce="second")


def jresp(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON answer written with exact decimals (``httpx.Response(json=)`` cannot do Decimal)."""
    return httpx.Response(
        status,
        content=_json.dumps(body),
        headers={"content-type": "application/json", **(headers or {})},
    )


def token_response(token: str = TOKEN) -> httpx.Response:
    return jresp(200, {"token": token})


def payout_json(**overrides: Any) -> dict[str, Any]:
    """A payout answer in the documented shape: the fields of Ecart Pay's OpenAPI
    examples, which carry no ``email`` (give ``email=`` for a server that echoes it)."""
    body: dict[str, Any] = {
        "id": "61a53cd3f6ea776ee3b37498",
        "authorization_id": "6189d4c4e1fd65512e9c5264",
        "account_id": "5dfab0626e963414d2475236",
        "reference_id": "payroll-2026-11-0001",
        "reference": "61a53cd3f6ea776ee3b37495",
        "status": "paid",
        "currency": "MXN",
        "amount": Decimal("1250.50"),
        "fee": Decimal(0),
        "exchange": Decimal(1),
        "available_at": "2021-11-29T20:49:23.889Z",
        "require_confirmation": False,
        "created_at": "2021-11-29T20:49:23.891Z",
        "updated_at": "2021-11-29T20:49:23.891Z",
    }
    body.update(overrides)
    return body


REQUEST = {
    "email": "ana@example.com",
    "reference_id": "payroll-2026-11-0001",
    "amount": Decimal("1250.50"),
    "currency": "MXN",
}


class FakeTime:
    """A monotonic clock and a sleep that records waits and advances the clock instantly.

    ``hold_next()`` makes the next sleep block until ``release()`` (the clock does not
    move meanwhile), to freeze a task in its backoff.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._hold: anyio.Event | None = None
        self.holding = anyio.Event()

    def monotonic(self) -> float:
        return self.now

    def hold_next(self) -> None:
        self._hold = anyio.Event()

    def release(self) -> None:
        assert self._held is not None
        self._held.set()

    _held: anyio.Event | None = None

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        hold, self._hold = self._hold, None  # only the next sleeper is held
        if hold is not None:
            self._held = hold
            self.holding.set()
            await hold.wait()
        self.now += max(seconds, 0.0)
        await anyio.lowlevel.checkpoint()


def build_client(
    http_client: httpx.AsyncClient, clock: FakeTime, **kwargs: Any
) -> AsyncClient:
    """An AsyncClient on the test origin, sending through ``http_client``, with fake time."""
    kwargs.setdefault("public_key", PUBLIC)
    kwargs.setdefault("private_key", PRIVATE)
    kwargs.setdefault("retry_policy", RetryPolicy(sleep=clock.sleep))
    client = AsyncClient(base_url=BASE, http_client=http_client, **kwargs)
    # The pipeline's clock times the pause gate (Retry-After); keep it on fake time.
    client._http._clock = clock.monotonic
    return client


def sent_json(call: Any) -> Any:
    """The JSON body of a recorded respx call, numbers as Decimal."""
    return _json.loads(call.request.content)


def canonical(obj: Any) -> bytes:
    """JSON text with keys sorted and decimals exactly as held (for exact comparisons)."""

    def sort(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sort(value[k]) for k in sorted(value)}
        if isinstance(value, list | tuple):
            return [sort(v) for v in value]
        return value

    return _json.dumps(sort(obj))


def count_posts(router: Any) -> int:
    """How many payouts were POSTed (every exactly-once test counts them)."""
    return sum(
        1 for call in router.calls
        if call.request.method == "POST" and call.request.url.path == PAYOUTS
    )


def count_lookups(router: Any) -> int:
    """How many ``GET /api/payouts?reference_id=...`` lookups were made."""
    return sum(
        1 for call in router.calls
        if call.request.method == "GET" and call.request.url.path == PAYOUTS
        and "reference_id" in call.request.url.params
    )


# -- the documented examples ------------------------------------------------------------

PAYOUT_PATHS = ("/api/payouts", "/api/payouts/{payout_id}", "/api/payouts/{payout_id}/confirm")


def openapi_examples(spec: dict[str, Any]) -> dict[str, Any]:
    """Every ``examples`` value under the payout paths, keyed ``path method where name``."""
    found: dict[str, Any] = {}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "examples" and isinstance(value, dict):
                    for name, example in value.items():
                        found[f"{where} {name}"] = example["value"]
                else:
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    for path in PAYOUT_PATHS:
        walk(spec["paths"][path], path)
    return found


def is_payout_example(key: str, value: Any) -> bool:
    """A payout answer (a 2xx response example that has an id and a status)."""
    return (
        "/responses/2" in key and isinstance(value, dict) and "id" in value and "status" in value
    )


def markdown_examples(text: str) -> list[Any]:
    """The JSON objects written right after each "Example Response" heading."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    objects: list[Any] = []
    start = 0
    while (start := text.find("Example Response", start)) != -1:
        position = start + len("Example Response")
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if not text.startswith("{", position):
                break
            value, position = decoder.raw_decode(text, position)
            objects.append(value)
        start = position
    return objects


def load_data(name: str) -> Any:
    return _json.loads((DATA / name).read_bytes())
