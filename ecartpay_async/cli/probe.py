"""``ecartpay-async probe``: ask the live sandbox API what its documents leave open.

A short scripted conversation with Ecart Pay's sandbox, with a real account's sandbox
keys: a reference_id sent again with the same and with another payment, the payouts
list (its shape, pages and filters), error answers (status codes and bodies), any
``Retry-After``, the token's lifetime and the webhook registration path. It prints
what it found and writes it as a sandbox profile (:mod:`ecartpay_async.sandbox.profile`)
that ``sandbox serve --profile FILE`` and ``Sandbox(profile=...)`` replay.

It talks to the API with plain httpx, not through the SDK's pipeline: the point is to
see the raw answers, with no retry, lookup or classification in between. It spends at
most three minor units (held payouts, never confirmed), says beforehand exactly what it
will send, asks unless ``--yes``, and refuses the production environment.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import attrs
import click
import httpx

from .. import _json
from .._reprs import safe_repr
from ..money import MINOR_UNITS
from ..sandbox.profile import ProfileSettings, SandboxProfile
from .app import EXIT_INVALID, EXIT_OK, _connection_options, _run, main
from .wording import KEY_VARIABLES

__all__ = ["Plan", "converse", "probe_command"]

_PRODUCTION_HOSTS: Final = frozenset({"ecartpay.com", "www.ecartpay.com"})
_SANDBOX_ORIGIN: Final = "https://sandbox.ecartpay.com"
#: How much of an answer's body a finding quotes.
_QUOTE: Final = 200
#: An id no payout has (24 hex digits, as Ecart Pay's ids are).
_NO_SUCH_ID: Final = "0" * 24


@safe_repr
@attrs.frozen
class Plan:
    """What the probe sends, decided before anything goes out."""

    email: str
    currency: str
    reference_id: str
    minor_unit: Decimal

    @property
    def amount(self) -> Decimal:
        return self.minor_unit

    @property
    def other_amount(self) -> Decimal:
        return self.minor_unit * 2

    def payout(self, amount: Decimal, reference_id: str | None = None) -> dict[str, Any]:
        return {"email": self.email, "reference_id": reference_id or self.reference_id,
                "amount": amount, "currency": self.currency,
                "require_confirmation": True}

    def lines(self) -> list[str]:
        return [
            "POST /api/authorizations/token       (your keys; the token's lifetime)",
            "GET  /api/payouts?limit=1            with a wrong token (the refusal)",
            f"POST /api/payouts                    {self._show(self.amount)}",
            "POST /api/payouts                    the same again (a reused reference_id)",
            f"POST /api/payouts                    {self._show(self.other_amount)} "
            "(the same reference_id, another amount)",
            f"GET  /api/payouts?reference_id={self.reference_id}",
            "GET  /api/payouts?limit=1&page=2     (pages)",
            "GET  /api/payouts?status=pending&limit=5  (a filter)",
            f"GET  /api/payouts/{_NO_SUCH_ID}  (an id that does not exist)",
            "POST /api/payouts                    amount 0 (refused: an error answer)",
            'POST /api/webhooks                   {"url": "", "events": []} '
            "(refused: whether the path exists)",
        ]

    def _show(self, amount: Decimal) -> str:
        return (f"{amount} {self.currency} to {self.email}, reference_id {self.reference_id}, "
                "require_confirmation true (held, never confirmed)")


@safe_repr
@attrs.define
class _Conversation:
    """The answers, as they come, and what they say."""

    http: httpx.AsyncClient
    findings: dict[str, str] = attrs.field(factory=dict)
    retry_after: list[str] = attrs.field(factory=list)

    async def ask(self, label: str, method: str, path: str, *,
                  json: Mapping[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        if json is not None:  # amounts as exact JSON numbers, as the SDK writes them
            kwargs["content"] = _json.dumps(json)
            kwargs["headers"] = {**kwargs.get("headers", {}), "Content-Type": "application/json"}
        answer = await self.http.request(method, path, **kwargs)
        if "retry-after" in answer.headers:
            self.retry_after.append(f"{label}: {answer.status_code} "
                                    f"Retry-After {answer.headers['retry-after']}")
        return answer

    def note(self, label: str, answer: httpx.Response, meaning: str = "") -> None:
        body = answer.text.replace("\n", " ")
        quoted = body if len(body) <= _QUOTE else body[:_QUOTE] + "..."
        self.findings[label] = f"{answer.status_code} {quoted}" + (
            f" -> {meaning}" if meaning else "")


async def converse(http: httpx.AsyncClient, public_key: str, private_key: str,
                   plan: Plan) -> SandboxProfile:
    """The scripted conversation; the profile it makes of the answers."""
    talk = _Conversation(http)
    basic = base64.b64encode(f"{public_key}:{private_key}".encode()).decode()
    answer = await talk.ask("token", "POST", "/api/authorizations/token",
                            headers={"Authorization": f"Basic {basic}"})
    if answer.status_code != 200:
        talk.note("token", answer)
        raise click.ClickException(
            f"the keys were refused ({answer.status_code}): nothing else was sent")
    token = str(answer.json().get("token", ""))
    token_ttl = _token_lifetime(token)
    talk.findings["token lifetime"] = (f"{token_ttl} s" if token_ttl else
                                       "unknown (the token is not a JWT with iat and exp)")
    authorized = {"Authorization": token}

    answer = await talk.ask("wrong token", "GET", "/api/payouts", params={"limit": 1},
                            headers={"Authorization": "not-a-token"})
    talk.note("wrong token", answer)

    first = await talk.ask("payout", "POST", "/api/payouts", headers=authorized,
                           json=plan.payout(plan.amount))
    if first.status_code >= 300:
        talk.note("payout", first)
        raise click.ClickException(
            f"the first payout was refused ({first.status_code}): {_quote(first)}; "
            "check --email (an account that can receive) and the balance")
    created = first.json()
    original_id = created.get("id")
    talk.note("payout", first)
    payout_email = "email" in created

    same = await talk.ask("reuse", "POST", "/api/payouts", headers=authorized,
                          json=plan.payout(plan.amount))
    reuse = _reuse_behavior(same, original_id)
    talk.note("reused reference_id, same payment", same, reuse or _unmatched(same))
    other = await talk.ask("conflict", "POST", "/api/payouts", headers=authorized,
                           json=plan.payout(plan.other_amount))
    conflict = _reuse_behavior(other, original_id)
    talk.note("reused reference_id, another amount", other, conflict or _unmatched(other))

    found = await talk.ask("lookup", "GET", "/api/payouts", headers=authorized,
                           params={"reference_id": plan.reference_id})
    shape, docs = _list_shape(found)
    matching = [d for d in docs if d.get("reference_id") == plan.reference_id]
    talk.note("list by reference_id", found, f"{shape or 'unknown shape'}, "
              f"{len(docs)} found, {len(matching)} with that reference_id")
    paged = await talk.ask("pages", "GET", "/api/payouts", headers=authorized,
                           params={"limit": 1, "page": 2})
    _, page = _list_shape(paged)
    keys = sorted(paged.json()) if _is_json_object(paged) else []
    talk.note("list page 2, limit 1", paged,
              f"{len(page)} on the page; envelope keys {keys}" if keys else f"{len(page)} listed")
    pending = await talk.ask("filter", "GET", "/api/payouts", headers=authorized,
                             params={"status": "pending", "limit": 5})
    _, listed = _list_shape(pending)
    others = sorted({str(d.get("status")) for d in listed} - {"pending"})
    talk.note("list status=pending", pending,
              f"{len(listed)} listed, other statuses: {others}" if others
              else f"{len(listed)} listed, all pending")

    missing = await talk.ask("not found", "GET", f"/api/payouts/{_NO_SUCH_ID}",
                             headers=authorized)
    talk.note("unknown payout id", missing)
    refused = await talk.ask("invalid", "POST", "/api/payouts", headers=authorized,
                             json=plan.payout(Decimal(0), f"{plan.reference_id}-zero"))
    error_style = _error_style(refused)
    talk.note("amount 0", refused, error_style or "not an error")
    hook = await talk.ask("webhooks", "POST", "/api/webhooks", headers=authorized,
                          json={"url": "", "events": []})
    talk.note("webhook registration, empty", hook,
              "no such path" if hook.status_code == 404 else "the path exists")
    talk.findings["Retry-After"] = "; ".join(talk.retry_after) or "not seen in any answer"

    settings = ProfileSettings(
        reuse_behavior=reuse, reuse_conflict_behavior=conflict, list_shape=shape,
        token_ttl=token_ttl, payout_email=payout_email, error_style=error_style,
    )
    return SandboxProfile(settings, probed=str(http.base_url).rstrip("/"),
                          findings=talk.findings)


def _token_lifetime(token: str) -> int | None:
    """``exp - iat`` of a JWT, read without checking its signature (it is ours)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        lifetime = int(payload["exp"]) - int(payload["iat"])
    except (ValueError, KeyError, TypeError):
        return None
    return lifetime if lifetime > 0 else None


def _status_meant(answer: httpx.Response) -> int:
    """The status an answer means: a 500 whose body says ``statusCode`` 4xx means that."""
    if answer.status_code == 500 and _is_json_object(answer):
        code = answer.json().get("statusCode")
        if isinstance(code, int) and 400 <= code < 500:
            return code
    return answer.status_code


def _reuse_behavior(answer: httpx.Response, original_id: object) -> str | None:
    """The emulator's name for what a reused reference_id got, or None if it has none."""
    if answer.is_success:
        same = _is_json_object(answer) and answer.json().get("id") == original_id
        return "return_original" if same else None  # a second payout: not reproducible
    return {400: "reject_400", 409: "reject_409"}.get(_status_meant(answer))


def _unmatched(answer: httpx.Response) -> str:
    """What a reuse answer the emulator cannot reproduce means."""
    if answer.is_success:
        return ("A SECOND PAYOUT: this API does not hold a reference_id to one payment; "
                "the emulator cannot reproduce that")
    return "an answer the emulator has no setting for"


def _error_style(answer: httpx.Response) -> str | None:
    if 400 <= answer.status_code < 500:
        return "http"
    if answer.status_code == 500 and _status_meant(answer) != 500:
        return "openapi"
    return None


def _list_shape(answer: httpx.Response) -> tuple[str | None, list[dict[str, Any]]]:
    if not answer.is_success:
        return None, []
    try:
        body = answer.json()
    except ValueError:
        return None, []
    if isinstance(body, list):
        return "array", [d for d in body if isinstance(d, dict)]
    if isinstance(body, dict) and isinstance(body.get("docs"), list):
        return "envelope", [d for d in body["docs"] if isinstance(d, dict)]
    return None, []


def _is_json_object(answer: httpx.Response) -> bool:
    try:
        return isinstance(answer.json(), dict)
    except ValueError:
        return False


def _quote(answer: httpx.Response) -> str:
    text = answer.text.replace("\n", " ")
    return text if len(text) <= _QUOTE else text[:_QUOTE] + "..."


def _is_production(base_url: str | None, environment: str) -> bool:
    if base_url is None:
        return environment == "production"
    host = httpx.URL(base_url).host.lower()
    return host in _PRODUCTION_HOSTS


@main.command("probe")
@click.option("--email", required=True, metavar="EMAIL",
              help="The recipient of the probe's payouts: an account that can receive.")
@click.option("--currency", default="MXN", show_default=True,
              type=click.Choice(sorted(MINOR_UNITS), case_sensitive=False),
              help="The currency of the probe's payouts (one minor unit each).")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("sandbox-profile.json"), show_default=True,
              help="Where to write the sandbox profile.")
@click.option("--yes", is_flag=True, help="Send without asking (for scripts).")
@_connection_options
def probe_command(email: str, currency: str, output: Path, yes: bool,
                  base_url: str | None, environment: str) -> None:
    """Ask the live Ecart Pay sandbox what its documents leave open; write a sandbox
    profile that `sandbox serve --profile FILE` replays."""
    if _is_production(base_url, environment):
        click.echo("error: probe talks to the sandbox only: it refuses the production "
                   "environment (unset ECARTPAY_ENVIRONMENT or use --environment sandbox)",
                   err=True)
        sys.exit(EXIT_INVALID)
    keys = [os.environ.get(name, "").strip() for name in KEY_VARIABLES]
    if not all(keys):
        missing = " and ".join(n for n, k in zip(KEY_VARIABLES, keys, strict=True) if not k)
        click.echo(f"error: no Ecart Pay keys: set {missing} to your sandbox keys", err=True)
        sys.exit(EXIT_INVALID)
    currency = currency.upper()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    plan = Plan(email=email, currency=currency,
                reference_id=f"probe-{stamp}-{secrets.token_hex(4)}",
                minor_unit=Decimal(1).scaleb(-MINOR_UNITS[currency]))
    origin = (base_url or _SANDBOX_ORIGIN).rstrip("/")
    click.echo(f"probe will send these requests to {origin}, at most "
               f"{plan.amount * 3} {currency} held (never confirmed):", err=True)
    for number, line in enumerate(plan.lines(), 1):
        click.echo(f"  {number:>2}. {line}", err=True)
    if not yes:
        if not sys.stdin.isatty():
            click.echo("error: not on a terminal: run again with --yes to send them", err=True)
            sys.exit(EXIT_INVALID)
        if not click.confirm("Send them?", default=False, err=True):
            click.echo("nothing was sent", err=True)
            sys.exit(EXIT_INVALID)

    async def run() -> int:
        async with httpx.AsyncClient(base_url=origin, timeout=30.0) as http:
            try:
                profile = await converse(http, keys[0], keys[1], plan)
            except httpx.HTTPError as exc:
                click.echo(f"error: cannot reach {origin} ({type(exc).__name__})", err=True)
                return EXIT_INVALID
        _print(profile)
        profile.save(output)
        click.echo(f"profile written to {output}: ecartpay-async sandbox serve "
                   f"--profile {output}")
        return EXIT_OK

    sys.exit(_run(run))


def _print(profile: SandboxProfile) -> None:
    click.echo("What the API answered:")
    width = max(map(len, profile.findings), default=0)
    for label, seen in profile.findings.items():
        click.echo(f"  {label:<{width}}  {seen}")
    click.echo("Sandbox settings:")
    settings: Mapping[str, Any] = profile.settings.to_json()
    for name, value in settings.items():
        click.echo(f"  {name} = {json.dumps(value)}")
