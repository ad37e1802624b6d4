"""ecartpay-async: the async Ecart Pay SDK, built for fast payout batches that never pay twice.

Public names live here; heavier parts (the batch engine, the sandbox emulator, the
command line) load only when used.
"""

from ._retry import RetryPolicy
from ._version import __version__
from .client import AsyncClient
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
    ConfigurationError,
    ConflictError,
    EcartPayError,
    IdempotencyConflictError,
    InternalServerError,
    JournalError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    UnprocessableEntityError,
    ValidationError,
    WebhookSignatureError,
)
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
from .models.webhooks import WebhookEvent

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIProxyError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchAbortedError",
    "ConfigurationError",
    "ConflictError",
    "EcartPayError",
    "IdempotencyConflictError",
    "InternalServerError",
    "JournalError",
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
    "ResponseTooLargeError",
    "RetryPolicy",
    "Transaction",
    "UnprocessableEntityError",
    "ValidationError",
    "WebhookEvent",
    "WebhookSignatureError",
    "__version__",
]
