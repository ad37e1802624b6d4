"""The public surface, pinned: what ``ecartpay_async`` and its documented modules export.

As httpx's ``tests/test_exported_members.py`` does: a name added to or dropped from
the public API must show up here, in review. Everything else is internal (the
modules whose names start with ``_``, and the rooms of the packages below).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import ecartpay_async

PUBLIC: dict[str, list[str]] = {
    "ecartpay_async": [
        "APIConnectionError", "APIError", "APIProxyError", "APIResponseError",
        "APIStatusError", "APITimeoutError", "AccountTransaction", "AsyncClient",
        "AuthenticationError",
        "BadRequestError",
        "BatchAbortedError", "ClientClosedError", "ConfigurationError", "ConflictError",
        "EcartPayError", "IdempotencyConflictError", "InternalServerError", "JournalError",
        "JournalMismatchError", "NotFoundError",
        "Order", "OrderItem", "OrderLine", "OrderPayout", "OrderPayoutEcho", "OrderStatus",
        "OrderTotals", "Page", "Payout", "PayoutCharge", "PayoutItem", "PayoutRequest",
        "PayoutStatus", "PermissionDeniedError", "RateLimitError", "RawResponse",
        "ResponseTooLargeError", "RetryPolicy",
        "Transaction", "TransactionSummary", "UnprocessableEntityError", "ValidationError",
        "Webhook", "WebhookEvent", "WebhookSignatureError", "Withdrawal", "__version__",
    ],
    "ecartpay_async.batch": [
        "DEFAULT_MAX_RETRIES", "Batch", "BatchReport", "BatchValidationError",
        "BreakerConfig", "CsvSource", "CsvSummary", "Failure", "Journal", "JournalEntry",
        "JournalState", "Outcome", "OutcomeStatus", "PayoutSender", "RowProblem",
        "SQLiteJournal", "fingerprint", "is_fatal", "send_batch",
        # around the batch: reconciliation and bulk confirmation
        "ConfirmBatch", "ConfirmOutcome", "ConfirmReport", "ConfirmStatus", "PayoutRef",
        "RefCsv", "ReconcileResult", "ReconcileStatus", "ReconcileSummary", "Reconciliation",
        # several workers: claims, and the PostgreSQL journal
        "Claim", "ClaimStatus", "JournalRow", "PostgresJournal",
    ],
    "ecartpay_async.rules": [
        "FAILURES", "SAME_PAYMENT", "TOKEN_PATH", "Meaning", "PayoutFate", "compared_fields",
        "conflict", "differences",
        "fate_of", "fingerprint", "is_congestion", "is_fatal", "is_retryable",
        "is_reuse_rejection",
        "may_have_been_processed", "meaning", "retry_token_request", "status_meaning",
    ],
    "ecartpay_async.splits": [
        "Split", "order_balance", "order_payout_amount", "order_payout_amount_from_total",
        "split_order",
    ],
    "ecartpay_async.webhooks": [
        "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WEBHOOK_ID_HEADER", "Claim",
        "DeliveryStore", "Handler", "MemoryDeliveryStore", "SQLiteDeliveryStore",
        "UnknownEventData", "WebhookEvent", "WebhookReceiver", "verify_webhook",
    ],
    "ecartpay_async.transport": [
        "AiohttpTransport", "AttemptTimeout", "AutoTransport", "DEFAULT_LIMITS",
        "DEFAULT_MAX_RESPONSE_BYTES", "DefaultSender", "HttpxSender", "Preference",
        "ProxyFailed", "Reply", "ResponseTooLarge", "Sender", "ShardedTransport",
        "TransportConfig", "TransportSender", "Verify", "exchange", "httpx_module_of",
        "on_asyncio", "ssl_context",
    ],
    "ecartpay_async.sandbox": [
        "FaultInjector", "FaultSpec", "FeeSchedule", "Sandbox", "SandboxProfile", "SandboxState",
        "signature",
    ],
    "ecartpay_async.cli": ["main"],
    "ecartpay_async.telemetry": ["Telemetry", "TracedBatch", "route_template"],
}

#: The package's modules without a leading underscore. The documented ones are the
#: keys above; ``client``, ``errors``, ``money``, ``models`` and ``resources`` hold
#: what the root exports (import those names from ``ecartpay_async``).
MODULES = [
    "__main__", "batch", "cli", "client", "errors", "models", "money", "resources", "rules",
    "sandbox", "splits", "telemetry", "transport", "webhooks",
]


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_exports_are_pinned(module: str) -> None:
    exported = importlib.import_module(module).__all__
    assert sorted(exported) == sorted(PUBLIC[module])


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_export_resolves(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in loaded.__all__:
        assert getattr(loaded, name) is not None, f"{module}.{name}"


def test_the_root_offers_nothing_else() -> None:
    for name in PUBLIC["ecartpay_async"]:
        getattr(ecartpay_async, name)  # load the lazy ones
    public = {n for n in vars(ecartpay_async) if not n.startswith(("_", "@"))}
    assert public - set(MODULES) == set(PUBLIC["ecartpay_async"]) - {"__version__"}


def test_the_public_modules_are_listed() -> None:
    root = Path(ecartpay_async.__file__).parent
    found = {p.stem for p in root.glob("*.py")} | {
        p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.py"))
    }
    assert sorted(m for m in found if not m.startswith("_") or m == "__main__") == MODULES


def test_importing_the_package_loads_only_the_errors() -> None:
    code = (
        "import sys, ecartpay_async; "
        "print(sorted(m for m in sys.modules if m.startswith('ecartpay_async')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "['ecartpay_async', 'ecartpay_async._version', 'ecartpay_async.errors']"
