"""ecartpay-async: the async Ecart Pay SDK, built for fast payout batches that never pay twice.

Public names live here. The errors load with the package; everything else (the
client and its pipeline, the models and their converter) loads on first use, so
that ``import ecartpay_async`` stays cheap for a program that only needs a name or
two, and the batch engine, the sandbox emulator and the command line load only when
used.

Where each rule lives: :mod:`ecartpay_async.rules` (the same payment; what each
status or failure means), ``_retry`` (how long to wait), ``_pause`` (the pause
gate), ``_http`` (the request pipeline), :mod:`ecartpay_async.batch` (batches and
their journals).
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIProxyError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchAbortedError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    EcartPayError,
    IdempotencyConflictError,
    InternalServerError,
    JournalError,
    JournalMismatchError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    UnprocessableEntityError,
    ValidationError,
    WebhookSignatureError,
)

if _typing.TYPE_CHECKING:
    from ._http import RawResponse
    from ._retry import RetryPolicy
    from .client import AsyncClient
    from .models.orders import (
        Order,
        OrderItem,
        OrderLine,
        OrderPayout,
        OrderPayoutEcho,
        OrderStatus,
        OrderTotals,
    )
    from .models.payouts import (
        Page,
        Payout,
        PayoutCharge,
        PayoutItem,
        PayoutRequest,
        PayoutStatus,
        Transaction,
    )
    from .models.transactions import AccountTransaction, TransactionSummary
    from .models.webhooks import Webhook, WebhookEvent
    from .models.withdrawals import Withdrawal

#: Names loaded on first use, and the module each comes from.
_LAZY = {
    "AccountTransaction": ".models.transactions",
    "AsyncClient": ".client",
    "Order": ".models.orders",
    "OrderItem": ".models.orders",
    "OrderLine": ".models.orders",
    "OrderPayout": ".models.orders",
    "OrderPayoutEcho": ".models.orders",
    "OrderStatus": ".models.orders",
    "OrderTotals": ".models.orders",
    "Page": ".models.payouts",
    "Payout": ".models.payouts",
    "PayoutCharge": ".models.payouts",
    "PayoutItem": ".models.payouts",
    "PayoutRequest": ".models.payouts",
    "PayoutStatus": ".models.payouts",
    "RawResponse": "._http",
    "RetryPolicy": "._retry",
    "Transaction": ".models.payouts",
    "TransactionSummary": ".models.transactions",
    "Webhook": ".models.webhooks",
    "WebhookEvent": ".models.webhooks",
    "Withdrawal": ".models.withdrawals",
}


def __getattr__(name: str) -> _typing.Any:
    try:
        home = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIProxyError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AccountTransaction",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchAbortedError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "EcartPayError",
    "IdempotencyConflictError",
    "InternalServerError",
    "JournalError",
    "JournalMismatchError",
    "NotFoundError",
    "Order",
    "OrderItem",
    "OrderLine",
    "OrderPayout",
    "OrderPayoutEcho",
    "OrderStatus",
    "OrderTotals",
    "Page",
    "Payout",
    "PayoutCharge",
    "PayoutItem",
    "PayoutRequest",
    "PayoutStatus",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Transaction",
    "TransactionSummary",
    "UnprocessableEntityError",
    "ValidationError",
    "Webhook",
    "WebhookEvent",
    "WebhookSignatureError",
    "Withdrawal",
    "__version__",
]
