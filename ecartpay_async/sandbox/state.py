"""The sandbox's memory: accounts and balances, tokens, payouts, orders, webhooks.

Pure bookkeeping with no HTTP: each public method takes already-authenticated
accounts and JSON bodies, validates them as the API would, and raises
:class:`~.validate.SandboxHTTPError` with the status and message the API would
answer. One re-entrant lock guards everything, so tests may read the state from
their own thread while the server's loop changes it.

Our choices where the real API is unknown (API-NOTES): a reused ``reference_id`` is
refused with 400 (``reuse_behavior`` switches to 409, or to answering with the
original payout); an overdraft is a 400 whose message starts with
``insufficient balance``; updating or confirming a payout that is not pending is a
400; lists are newest first, 50 a page, at most 100.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final, Literal

from . import ledger, tokens
from .currencies import (
    DECIMALS,
    check_amount,
    check_currency,
    configured_number,
    round_to_minor_unit,
)
from .fees import FeeSchedule
from .records import Account, Delivery, IdFactory, Order, Payout, Webhook, Withdrawal, iso
from .validate import ERROR_STYLES, Body, ErrorStyle, SandboxHTTPError, bad_request

__all__ = ["DEFAULT_BALANCES", "ListShape", "ReuseBehavior", "SandboxState", "parse_balances"]

ReuseBehavior = Literal["reject_400", "reject_409", "return_original"]
ListShape = Literal["envelope", "array"]
REUSE_BEHAVIORS: Final = ("reject_400", "reject_409", "return_original")
LIST_SHAPES: Final = ("envelope", "array")
REFUND_REASONS: Final = ("requested", "duplicate", "fraudulent")

#: The merchant's starting balance in each currency unless ``balances`` says otherwise:
#: about the same value everywhere (some 50 million US dollars' worth, at rough rates of
#: late 2026), so that a payroll of realistic size fits in any currency: 1,000,000,000
#: MXN, and 200,000,000,000 COP, where one billion would not pay 300 people.
DEFAULT_BALANCES: Final[dict[str, Decimal]] = {
    "USD": Decimal("50000000"),
    "EUR": Decimal("50000000"),
    "CAD": Decimal("70000000"),
    "AUD": Decimal("75000000"),
    "PEN": Decimal("200000000"),
    "BRL": Decimal("300000000"),
    "GTQ": Decimal("400000000"),
    "MXN": Decimal("1000000000"),
    "INR": Decimal("5000000000"),
    "ARS": Decimal("75000000000"),
    "CLP": Decimal("50000000000"),
    "COP": Decimal("200000000000"),
}
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 100


def _not_found(what: str) -> SandboxHTTPError:
    return SandboxHTTPError(404, f"{what} not found")


def _unauthorized(why: str) -> SandboxHTTPError:
    return SandboxHTTPError(401, f"Unauthorized: {why}")


def _balances(given: Mapping[str, object] | None) -> dict[str, Decimal]:
    """Balances per currency; raises ValueError naming ``balances`` if malformed."""
    if given is None:
        return {code: check_amount(DEFAULT_BALANCES[code], code) for code in DECIMALS}
    out = {}
    for key, value in given.items():
        code = check_currency(key, "balances")
        amount = configured_number(value, f"balances.{code}")
        out[code] = check_amount(amount, code, f"balances.{code}", allow_zero=True)
    return out


def parse_balances(items: Iterable[str]) -> dict[str, Decimal]:
    """``CUR=AMOUNT`` texts (``--balance MXN=50000``) as starting balances over the
    default ones: a currency not named keeps :data:`DEFAULT_BALANCES`' amount. Raises
    ValueError naming the text that cannot be read."""
    out = dict(DEFAULT_BALANCES)
    for item in items:
        code, sep, amount = item.partition("=")
        code = code.strip().upper()
        if not sep:
            raise ValueError(f"balance {item!r}: expected CURRENCY=AMOUNT, e.g. MXN=50000")
        field = f"balance {item!r}"
        check_currency(code, field)
        value = configured_number(amount.strip(), field)
        out[code] = check_amount(value, code, field, allow_zero=True)
    return out


class SandboxState:
    """Everything the emulated API knows. See the module docstring for its rules."""

    def __init__(
        self,
        *,
        public_key: str,
        private_key: str,
        email: str = "merchant@sandbox.ecartpay.test",
        balances: Mapping[str, object] | None = None,
        webhook_secret: str,
        token_ttl: int = 3600,
        auto_register: bool = True,
        reuse_behavior: ReuseBehavior = "reject_400",
        list_shape: ListShape = "envelope",
        payout_email: bool = False,
        error_style: ErrorStyle = "http",
        fees: FeeSchedule | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if error_style not in ERROR_STYLES:
            raise ValueError(f"error_style must be one of {', '.join(ERROR_STYLES)}")
        self.lock = threading.RLock()
        self.token_ttl = token_ttl
        self.auto_register = auto_register
        self.reuse_behavior: ReuseBehavior = reuse_behavior
        #: A reference_id sent again with another payment (amount, recipient, currency,
        #: confirmation flag); None: as ``reuse_behavior`` (a probe's profile may differ).
        self.reuse_conflict_behavior: ReuseBehavior | None = None
        self.list_shape: ListShape = list_shape
        #: Whether payout answers carry ``email`` (the documented shape does not).
        self.payout_email = payout_email
        self.error_style: ErrorStyle = error_style
        self.fees = fees or FeeSchedule()
        self._clock = clock
        self._offset = 0.0
        self._new_id = IdFactory(seed)
        self._signing_key = secrets.token_bytes(32)
        self._merchant_config = (public_key, private_key, email.lower(), _balances(balances))
        self._webhook_secret = webhook_secret
        # The account id follows from the keys, as a real account's does: a journal
        # written against this merchant is recognised by the next sandbox with the
        # same keys, and refused by one with other keys (another account).
        self._merchant_id = hashlib.sha256(f"account:{public_key}".encode()).hexdigest()[:24]
        self._merchant_authorization = self._new_id()
        self.reset()

    # -- bookkeeping ------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial merchant and balances; the merchant's tokens stay valid."""
        public_key, private_key, email, balances = self._merchant_config
        with self.lock:
            self._accounts: dict[str, Account] = {}
            self._by_email: dict[str, Account] = {}
            self._by_public_key: dict[str, Account] = {}
            self._payouts: dict[str, Payout] = {}
            self._refs: dict[tuple[str, str], Payout] = {}
            self._scheduled: dict[str, float] = {}
            self._orders: dict[str, Order] = {}
            self._webhooks: list[Webhook] = []
            self._deliveries: list[Delivery] = []
            self._outbox: list[Delivery] = []
            self._withdrawals: list[Withdrawal] = []
            self._order_numbers = 0
            self._transaction_numbers = 0
            self.tokens_issued = 0
            self.merchant = self._add_account(
                email,
                public_key=public_key,
                private_key=private_key,
                balances=dict(balances),
                account_id=self._merchant_id,
                authorization_id=self._merchant_authorization,
                webhook_secret=self._webhook_secret,
            )

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward (token expiry, scheduled confirmations)."""
        with self.lock:
            self._offset += seconds
            self._settle_due()

    def _add_account(
        self,
        email: str,
        *,
        public_key: str | None = None,
        private_key: str | None = None,
        balances: dict[str, Decimal] | None = None,
        account_id: str | None = None,
        authorization_id: str | None = None,
        webhook_secret: str | None = None,
    ) -> Account:
        account = Account(
            id=account_id or self._new_id(),
            email=email,
            authorization_id=authorization_id or self._new_id(),
            public_key=public_key,
            private_key=private_key,
            webhook_secret=webhook_secret or f"whsec_{secrets.token_hex(16)}",
            balances=balances if balances is not None else {},
        )
        self._accounts[account.id] = account
        self._by_email[email] = account
        if public_key is not None:
            self._by_public_key[public_key] = account
        return account

    def upsert_account(self, raw: Mapping[str, Any]) -> tuple[Account, bool]:
        """Create an account, or fund an existing one (``/_sandbox/accounts``).

        ``balances`` sets those currencies, ``credit`` adds to them; a new account with
        no ``public_key`` gets a generated key pair. Returns (account, created).
        """
        body = Body(raw)
        email = body.email()
        public_key = body.string("public_key", required=False)
        private_key = body.string("private_key", required=False)
        balances = body.object("balances")
        credit = body.object("credit")
        try:
            set_to = _balances(balances.data) if balances else {}
            add = _balances(credit.data) if credit else {}
        except ValueError as exc:
            bad_request(str(exc))
        with self.lock:
            account = self._by_email.get(email)
            created = account is None
            if account is None:
                if public_key is None:
                    public_key = f"pub_{secrets.token_hex(12)}"
                    private_key = private_key or f"priv_{secrets.token_hex(24)}"
                if private_key is None:
                    bad_request("private_key is required with public_key")
                if public_key in self._by_public_key:
                    bad_request(f"public_key {public_key!r} is already in use")
                account = self._add_account(email, public_key=public_key, private_key=private_key)
            elif public_key is not None or private_key is not None:
                bad_request(f"account {email!r} exists; its keys cannot be changed")
            account.balances.update(set_to)
            for code, amount in add.items():
                account.balances[code] = account.balances.get(code, Decimal(0)) + amount
            return account, created

    def account(self, email_or_id: str) -> Account:
        """An account by email or id (for tests and the control API)."""
        with self.lock:
            found = self._by_email.get(email_or_id.lower()) or self._accounts.get(email_or_id)
            if found is None:
                raise KeyError(email_or_id)
            return found

    def balance(self, email_or_id: str, currency: str) -> Decimal:
        with self.lock:
            self._settle_due()
            return self.account(email_or_id).balances.get(currency.upper(), Decimal(0))

    def payouts(self) -> list[Payout]:
        """Every payout, oldest first."""
        with self.lock:
            self._settle_due()
            return list(self._payouts.values())

    def orders(self) -> list[Order]:
        with self.lock:
            return list(self._orders.values())

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self._deliveries)

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON (``GET /_sandbox/state``); no key or secret in it."""
        with self.lock:
            self._settle_due()
            return {
                "accounts": [a.to_json() for a in self._accounts.values()],
                "payouts": [p.to_json() for p in self._payouts.values()],
                "orders": [o.to_json() for o in self._orders.values()],
                "webhooks": [w.to_json() for w in self._webhooks],
                "withdrawals": [w.to_json() for w in self._withdrawals],
                "deliveries": [d.to_json() for d in self._deliveries],
                "tokens_issued": self.tokens_issued,
                "options": {
                    "reuse_behavior": self.reuse_behavior,
                    "list_shape": self.list_shape,
                    "auto_register": self.auto_register,
                    "token_ttl": self.token_ttl,
                },
            }

    def set_options(self, raw: Mapping[str, Any]) -> None:
        """Switch ``reuse_behavior``, ``list_shape``, ``auto_register``, ``token_ttl``,
        ``payout_email``, ``error_style``."""
        body = Body(raw)
        with self.lock:
            reuse = body.string("reuse_behavior", required=False)
            if reuse is not None:
                if reuse not in REUSE_BEHAVIORS:
                    bad_request(f"reuse_behavior must be one of {', '.join(REUSE_BEHAVIORS)}")
                self.reuse_behavior = reuse  # type: ignore[assignment]
            shape = body.string("list_shape", required=False)
            if shape is not None:
                if shape not in LIST_SHAPES:
                    bad_request(f"list_shape must be one of {', '.join(LIST_SHAPES)}")
                self.list_shape = shape  # type: ignore[assignment]
            if body.has("auto_register"):
                self.auto_register = body.boolean("auto_register")
            if body.has("token_ttl"):
                self.token_ttl = int(body.number("token_ttl", positive=True))
            if body.has("payout_email"):
                self.payout_email = body.boolean("payout_email")
            style = body.string("error_style", required=False)
            if style is not None:
                if style not in ERROR_STYLES:
                    bad_request(f"error_style must be one of {', '.join(ERROR_STYLES)}")
                self.error_style = style  # type: ignore[assignment]

    # -- tokens -----------------------------------------------------------------------

    def issue_token(self, public_key: str, private_key: str) -> str:
        with self.lock:
            account = self._by_public_key.get(public_key)
            expected = account.private_key if account else None
            if (
                account is None
                or expected is None
                or not hmac.compare_digest(expected.encode(), private_key.encode())
            ):
                raise _unauthorized("invalid public or private key")
            issued = int(self.now())
            self.tokens_issued += 1
            claims = {
                "id": account.authorization_id,
                "account_id": account.id,
                "iat": issued,
                "exp": issued + self.token_ttl,
            }
        return tokens.encode(claims, self._signing_key)

    def authenticate(self, header: str | None) -> Account:
        """The account a request's ``Authorization`` token belongs to (401 otherwise)."""
        if not header:
            raise _unauthorized("missing token")
        token = header[7:] if header[:7].lower() == "bearer " else header
        try:
            claims = tokens.decode(token.strip(), self._signing_key)
        except tokens.InvalidToken:
            raise _unauthorized("invalid token") from None
        with self.lock:
            account = self._accounts.get(str(claims.get("account_id")))
            if account is None or claims.get("id") != account.authorization_id:
                raise _unauthorized("invalid token")
            exp = claims.get("exp")
            if not isinstance(exp, int) or exp <= self.now():
                raise _unauthorized("token expired")
            return account

    # -- balances ---------------------------------------------------------------------

    def _debit(self, account: Account, currency: str, amount: Decimal) -> None:
        available = account.balances.get(currency, Decimal(0))
        if amount > available:
            bad_request(
                f"insufficient balance: {available} {currency} available, "
                f"{amount} {currency} requested"
            )
        account.balances[currency] = available - amount

    @staticmethod
    def _credit(account: Account, currency: str, amount: Decimal) -> None:
        account.balances[currency] = account.balances.get(currency, Decimal(0)) + amount

    # -- payouts ----------------------------------------------------------------------

    def _payout_details(self, body: Body, currency: str) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if body.has("order_id"):
            details["order_id"] = body.string("order_id")
        items = body.objects("items")
        if items is not None:
            details["items"] = [
                {
                    "name": item.required_string("name"),
                    "quantity": item.number("quantity", positive=True),
                    "price": item.amount("price", currency, allow_zero=True),
                    "discount": item.amount("discount", currency, allow_zero=True)
                    if item.has("discount")
                    else Decimal(0),
                }
                for item in items
            ]
        charges = body.objects("charges")
        if charges is not None:
            details["charges"] = [
                {"name": c.required_string("name"), "amount": c.amount("amount", currency)}
                for c in charges
            ]
        return details

    def _transactions(self, payout: Payout) -> list[dict[str, Any]]:
        out = []
        for kind in ("charge", "payment"):
            self._transaction_numbers += 1
            number = f"TR{self._transaction_numbers:08d}A"
            out.append(
                {
                    "id": self._new_id(),
                    "account_id": number,
                    "transaction_id": number,
                    "type": kind,
                    "status": payout.status,
                    "amount": payout.amount,
                    "fee": 0,
                    "currency": payout.currency,
                    "gateway": "pay",
                }
            )
        return out

    def _recipient(self, sender: Account, email: str, *, register: bool) -> Account:
        if email == sender.email:
            bad_request("email: a payout cannot be sent to your own account")
        recipient = self._by_email.get(email)
        if recipient is None:
            if not register:
                bad_request(f"email: no Ecart Pay account is registered for {email!r}")
            recipient = self._add_account(email)
        return recipient

    def create_payout(self, account: Account, raw: Mapping[str, Any]) -> Payout:
        """``POST /api/payouts``: either ``email`` + ``reference_id`` or ``customer_id`` +
        ``payment_method_id``; a reused reference_id follows ``reuse_behavior``."""
        body = Body(raw)
        customer_shape = body.has("customer_id") or body.has("payment_method_id")
        customer_id: str | None = None
        payment_method_id: str | None = None
        if customer_shape:
            if body.has("email"):
                bad_request("email: give either email or customer_id with payment_method_id")
            customer_id = body.required_string("customer_id")
            payment_method_id = body.required_string("payment_method_id")
            reference_id = body.string("reference_id", required=False)
            email = None
        else:
            email = body.email()
            reference_id = body.required_string("reference_id")
        currency = body.currency()
        amount = body.amount("amount", currency)
        require_confirmation = body.boolean("require_confirmation")
        details = self._payout_details(body, currency)
        with self.lock:
            self._settle_due()
            if reference_id is not None:
                existing = self._refs.get((account.id, reference_id))
                if existing is not None:
                    same = (existing.email, existing.amount, existing.currency,
                            existing.require_confirmation) == (
                        email, amount, currency, require_confirmation)
                    return self._reused(existing, same=same)
            recipient = None
            if email is not None:
                recipient = self._recipient(account, email, register=self.auto_register)
            payout = self._new_payout(
                account,
                reference_id=reference_id,
                currency=currency,
                amount=amount,
                require_confirmation=require_confirmation,
                email=email,
                recipient=recipient,
                **details,
            )
            if customer_shape:
                payout.customer_id = customer_id
                payout.payment_method_id = payment_method_id
                payout.transactions = self._transactions(payout)
            if not require_confirmation:
                self._complete(payout, payout.created_at)
            self._store(payout)
            return payout

    def _new_payout(
        self,
        account: Account,
        *,
        reference_id: str | None,
        currency: str,
        amount: Decimal,
        require_confirmation: bool,
        email: str | None,
        recipient: Account | None,
        **details: Any,
    ) -> Payout:
        """Debit the sender and make the payout (pending until completed)."""
        self._debit(account, currency, amount)
        now = self.now()
        reference = self._new_id()
        return Payout(
            id=self._new_id(),
            account_id=account.id,
            authorization_id=account.authorization_id,
            reference_id=reference_id or reference,
            reference=reference,
            status="pending",
            currency=currency,
            amount=amount,
            require_confirmation=require_confirmation,
            created_at=now,
            updated_at=now,
            available_at=now,
            email=email,
            recipient_id=recipient.id if recipient else None,
            **details,
        )

    def _reused(self, existing: Payout, *, same: bool) -> Payout:
        message = f"reference_id {existing.reference_id!r} has already been used"
        behavior = self.reuse_behavior
        if not same and self.reuse_conflict_behavior is not None:
            behavior = self.reuse_conflict_behavior
        if behavior == "reject_400":
            raise SandboxHTTPError(400, message)
        if behavior == "reject_409":
            raise SandboxHTTPError(409, message)
        return existing

    def _store(self, payout: Payout) -> None:
        self._payouts[payout.id] = payout
        self._refs[(payout.account_id, payout.reference_id)] = payout
        self._emit(payout.account_id, "transfer.created", payout.to_json())

    def _complete(self, payout: Payout, now: float) -> None:
        payout.status = "paid"
        payout.updated_at = now
        for transaction in payout.transactions:
            transaction["status"] = "paid"
        if payout.recipient_id is not None:
            self._credit(self._accounts[payout.recipient_id], payout.currency, payout.amount)

    def _settle_due(self) -> None:
        if not self._scheduled:
            return
        now = self.now()
        for payout_id, due in list(self._scheduled.items()):
            if due <= now:
                del self._scheduled[payout_id]
                self._complete(self._payouts[payout_id], due)

    def get_payout(self, account: Account, payout_id: str) -> Payout:
        with self.lock:
            self._settle_due()
            payout = self._payouts.get(payout_id)
            if payout is None or payout.account_id != account.id:
                raise _not_found("Payout")
            return payout

    def list_payouts(
        self, account: Account, query: Mapping[str, str]
    ) -> tuple[list[Payout], int, int]:
        """``GET /api/payouts`` filtered by ``status``, ``reference_id`` (exact) and ``q``
        (substring of email or reference_id); returns (page, count, pages)."""
        page = _positive_int(query, "page", 1, None)
        limit = _positive_int(query, "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        status = query.get("status")
        reference_id = query.get("reference_id")
        q = (query.get("q") or "").lower()
        with self.lock:
            self._settle_due()
            found: Iterable[Payout]
            if reference_id is not None:
                hit = self._refs.get((account.id, reference_id))
                found = [hit] if hit else []
            else:
                found = (p for p in reversed(self._payouts.values()) if p.account_id == account.id)
            matches = [
                p
                for p in found
                if (status is None or p.status == status)
                and (not q or q in p.reference_id.lower() or q in (p.email or ""))
            ]
        count = len(matches)
        pages = math.ceil(count / limit)
        return matches[(page - 1) * limit : page * limit], count, pages

    def _pending(self, account: Account, payout_id: str, action: str) -> Payout:
        payout = self.get_payout(account, payout_id)
        if payout.status != "pending":
            bad_request(
                f"payout {payout_id} is {payout.status}; only a pending payout can be {action}"
            )
        return payout

    def update_payout(self, account: Account, payout_id: str, raw: Mapping[str, Any]) -> Payout:
        """``PUT /api/payouts/{id}``: ``amount``, ``order_id``, ``items``, ``charges``."""
        body = Body(raw)
        if not any(body.has(k) for k in ("amount", "order_id", "items", "charges")):
            bad_request("give at least one of amount, order_id, items, charges")
        with self.lock:
            payout = self._pending(account, payout_id, "updated")
            details = self._payout_details(body, payout.currency)
            if body.has("amount"):
                amount = body.amount("amount", payout.currency)
                if amount > payout.amount:
                    self._debit(account, payout.currency, amount - payout.amount)
                else:
                    self._credit(account, payout.currency, payout.amount - amount)
                payout.amount = amount
            for key, value in details.items():
                setattr(payout, key, value)
            for transaction in payout.transactions:
                transaction["amount"] = payout.amount
            payout.updated_at = self.now()
            return payout

    def confirm_payout(self, account: Account, payout_id: str, raw: Mapping[str, Any]) -> Payout:
        """``PUT /api/payouts/{id}/confirm``: paid now, or at a future ``available_at``."""
        available_at = Body(raw).datetime("available_at")
        with self.lock:
            payout = self._pending(account, payout_id, "confirmed")
            now = self.now()
            payout.updated_at = now
            if available_at is not None and available_at > now:
                payout.available_at = available_at
                self._scheduled[payout.id] = available_at
            else:
                self._scheduled.pop(payout.id, None)
                payout.available_at = now
                self._complete(payout, now)
            return payout

    # -- orders -----------------------------------------------------------------------

    def create_order(self, account: Account, raw: Mapping[str, Any], link_base: str) -> Order:
        """``POST /api/orders`` with an optional ``payout`` split (send-money-from-orders)."""
        body = Body(raw)
        customer_id = body.required_string("customer_id")
        currency = body.currency()
        items = []
        for item in body.objects("items", required=True) or []:
            quantity = item.number("quantity", positive=True)
            price = item.amount("price", currency, allow_zero=True)
            line: dict[str, Any] = {}
            if item.has("code"):
                line["code"] = item.string("code")
            line.update(
                name=item.required_string("name"),
                quantity=quantity,
                price=price,
                discount=0,
                total=round_to_minor_unit(price * quantity, currency),
                tax=0,
                is_service=False,
                taxes=[],
            )
            items.append(line)
        total = sum((line["total"] for line in items), Decimal(0))
        if total <= 0:
            bad_request("items: the order total must be greater than 0")
        payout = self._order_payout(account, body, currency)
        contact = {
            key: body.string(key, required=False, allow_empty=True) or ""
            for key in ("email", "first_name", "last_name", "phone")
        }
        notify_url = (
            body.string("notify_url", required=False, allow_empty=True, max_length=2048) or ""
        )
        redirect_url = (
            body.string("redirect_url", required=False, allow_empty=True, max_length=2048) or ""
        )
        with self.lock:
            now = self.now()
            self._order_numbers += 1
            order_id = self._new_id()
            order = Order(
                id=order_id,
                account_id=account.id,
                authorization_id=account.authorization_id,
                number=f"OR{self._order_numbers:08d}",
                customer_id=customer_id,
                currency=currency,
                items=items,
                total=total,
                created_at=now,
                updated_at=now,
                pay_link=f"{link_base}/pay/{order_id}",
                contact=contact,
                notify_url=notify_url,
                redirect_url=redirect_url,
                payout=payout,
            )
            self._orders[order.id] = order
            self._emit(account.id, "orders.create", order.to_json())
            return order

    def _order_payout(self, account: Account, body: Body, currency: str) -> dict[str, Any] | None:
        payout = body.object("payout")
        if payout is None:
            return None
        email = payout.email()
        if email == account.email:
            bad_request("payout.email: must be different from the order creator's email")
        percent = payout.boolean("percent")
        if percent:
            amount = payout.number("amount", positive=True)
            if amount > 100:
                bad_request(f"payout.amount: a percentage must be at most 100, got {amount}")
        else:
            amount = payout.amount("amount", currency)
        return {"email": email, "amount": amount, "percent": percent, "_id": self._new_id()}

    def get_order(self, account: Account, order_id: str) -> Order:
        with self.lock:
            order = self._orders.get(order_id)
            if order is None or order.account_id != account.id:
                raise _not_found("Order")
            return order

    def pay_order(self, order_id: str) -> Order:
        """Mark an order paid (``/_sandbox/orders/{id}/pay``): the fee is taken, the rest
        credited, and the order's payout sent by the document's rules."""
        with self.lock:
            order = self._orders.get(order_id)
            if order is None:
                raise _not_found("Order")
            if order.status != "created":
                bad_request(f"order {order_id} is already {order.status}")
            account = self._accounts[order.account_id]
            now = self.now()
            order.fee = self.fees.fee(order.total, order.currency)
            order.status = "paid"
            order.updated_at = now
            balance = order.total - order.fee
            self._credit(account, order.currency, balance)
            self._emit(account.id, "orders.confirmation", order.to_json())
            if order.payout is not None:
                self._pay_order_split(account, order, balance)
            return order

    def _pay_order_split(self, account: Account, order: Order, balance: Decimal) -> None:
        split = order.payout
        assert split is not None
        if split["percent"]:
            amount = round_to_minor_unit(balance * split["amount"] / 100, order.currency)
        else:
            amount = min(split["amount"], balance)
        if amount <= 0:
            return
        # The seller may have no account yet: an order's payout always registers them.
        recipient = self._recipient(account, split["email"], register=True)
        payout = self._new_payout(
            account,
            reference_id=f"order:{order.id}",
            currency=order.currency,
            amount=amount,
            require_confirmation=False,
            email=split["email"],
            recipient=recipient,
            order_id=order.id,
        )
        self._complete(payout, payout.created_at)
        self._store(payout)

    def refund_order(self, account: Account, order_id: str, raw: Mapping[str, Any]) -> Order:
        """``POST /api/orders/{id}/refund``: ``amount`` and ``name`` (the reason)."""
        body = Body(raw)
        name = body.required_string("name")
        if name not in REFUND_REASONS:
            bad_request(f"name must be one of {', '.join(REFUND_REASONS)}")
        with self.lock:
            order = self.get_order(account, order_id)
            amount = body.amount("amount", order.currency)
            if order.status not in ("paid", "partially_refunded"):
                bad_request(
                    f"order {order_id} is {order.status}; only a paid order can be refunded"
                )
            refundable = order.total - order.refunded
            if amount > refundable:
                bad_request(
                    f"amount: {amount} exceeds the refundable {refundable} {order.currency}"
                )
            self._debit(account, order.currency, amount)
            now = self.now()
            order.refunded += amount
            order.refunds.append(
                {"id": self._new_id(), "amount": amount, "name": name, "created_at": iso(now)}
            )
            order.status = "refunded" if order.refunded == order.total else "partially_refunded"
            order.updated_at = now
            self._emit(account.id, "orders.update", order.to_json())
            return order

    # -- webhooks ---------------------------------------------------------------------

    def register_webhook(self, account: Account, raw: Mapping[str, Any]) -> Webhook:
        """``POST /api/webhooks`` ``{url, events[]}``; events may use ``*`` wildcards."""
        body = Body(raw)
        url = body.required_string("url", max_length=2048)
        if not url.startswith(("http://", "https://")):
            bad_request("url must be an http:// or https:// address")
        events = body.data.get("events")
        if not isinstance(events, list) or not events:
            bad_request("events must be a non-empty list of event names")
        if not all(isinstance(e, str) and e for e in events):
            bad_request("events must contain only event names")
        with self.lock:
            webhook = Webhook(self._new_id(), account.id, url, list(events), self.now())
            self._webhooks.append(webhook)
            return webhook

    def _emit(self, account_id: str, event: str, data: dict[str, Any]) -> None:
        for webhook in self._webhooks:
            if webhook.account_id == account_id and any(
                fnmatch.fnmatchcase(event, pattern) for pattern in webhook.events
            ):
                delivery = Delivery(
                    self._new_id(), webhook.id, account_id, webhook.url, event, data
                )
                self._deliveries.append(delivery)
                self._outbox.append(delivery)

    def take_outbox(self) -> list[Delivery]:
        """Deliveries emitted since the last call, for the dispatcher to send."""
        with self.lock:
            out, self._outbox = self._outbox, []
            return out

    def webhook_secret(self, account_id: str) -> str:
        with self.lock:
            return self._accounts[account_id].webhook_secret

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a delivery again, same webhook id (``/_sandbox/deliveries/{id}/redeliver``),
        as Ecart Pay does when a receiver's answer was lost."""
        with self.lock:
            for delivery in self._deliveries:
                if delivery.id == delivery_id:
                    delivery.status = "pending"
                    self._outbox.append(delivery)
                    return delivery
            raise _not_found("Delivery")

    # -- the account's money, read-only (see ledger) ----------------------------------

    def _ledger(self, account: Account) -> list[dict[str, Any]]:
        self._settle_due()
        return ledger.transactions(
            (p for p in self._payouts.values() if p.account_id == account.id),
            (o for o in self._orders.values() if o.account_id == account.id),
            (w for w in self._withdrawals if w.account_id == account.id),
        )

    def list_transactions(
        self, account: Account, query: Mapping[str, str]
    ) -> tuple[list[Mapping[str, Any]], int, int]:
        """``GET /api/transactions`` by ``type``, ``status``, ``q``, ``start_date``,
        ``end_date``; returns (page, count, pages)."""
        with self.lock:
            docs = self._ledger(account)
        found = ledger.matching(
            docs, query, exact={"type": "type", "status": "status"},
            search=("id", "reference_id", "reference", "email"),
            date_range=("start_date", "end_date"),
        )
        return _paged(found, query)

    def get_transaction(self, account: Account, transaction_id: str) -> Mapping[str, Any]:
        with self.lock:
            for doc in self._ledger(account):
                if doc["id"] == transaction_id:
                    return doc
        raise _not_found("Transaction")

    def transaction_summary(self, account: Account, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /api/transactions/summary?currency=``: the currency's totals and balance."""
        currency = Body(dict(query)).currency()
        with self.lock:
            docs = self._ledger(account)
            balance = account.balances.get(currency, Decimal(0))
        return ledger.summary(docs, currency, balance)

    def list_withdrawals(
        self, account: Account, query: Mapping[str, str]
    ) -> tuple[list[Mapping[str, Any]], int, int]:
        """``GET /api/withdrawals`` by ``currency``, ``status``, ``q``, ``date_[start]``,
        ``date_[end]``; returns (page, count, pages)."""
        with self.lock:
            mine = (w for w in self._withdrawals if w.account_id == account.id)
            docs = ledger.withdrawal_docs(mine)
        found = ledger.matching(
            docs, query, exact={"currency": "currency", "status": "status"},
            search=("id", "reference"), date_range=("date_[start]", "date_[end]"),
        )
        return _paged(found, query)

    def withdraw(self, raw: Mapping[str, Any]) -> Withdrawal:
        """Take ``amount`` of ``currency`` to the bank (``/_sandbox/withdrawals``): from the
        merchant, or from the account ``email``; ``status`` defaults to ``paid``."""
        body = Body(raw)
        currency = body.currency()
        amount = body.amount("amount", currency)
        status = body.string("status", required=False) or "paid"
        email = body.string("email", required=False)
        with self.lock:
            account = self.merchant if email is None else self._by_email.get(email.lower())
            if account is None:
                raise _not_found("Account")
            self._debit(account, currency, amount)
            now = self.now()
            withdrawal = Withdrawal(
                id=self._new_id(), account_id=account.id,
                reference=f"WD{len(self._withdrawals) + 1:08d}", status=status,
                currency=currency, amount=amount, created_at=now, updated_at=now,
            )
            self._withdrawals.append(withdrawal)
            self._emit(account.id, "withdrawals.created", withdrawal.to_json())
            return withdrawal


def _paged(
    found: list[Mapping[str, Any]], query: Mapping[str, str]
) -> tuple[list[Mapping[str, Any]], int, int]:
    page = _positive_int(query, "page", 1, None)
    limit = _positive_int(query, "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    count = len(found)
    return found[(page - 1) * limit : page * limit], count, math.ceil(count / limit)


def _positive_int(query: Mapping[str, str], key: str, default: int, maximum: int | None) -> int:
    text = query.get(key)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        bad_request(f"{key} must be a whole number of at least 1{upper}")
    return int(text)
